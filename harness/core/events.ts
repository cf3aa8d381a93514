// The one typed event stream of a run. Every reporter (terminal, JSON, JUnit, HTML) consumes
// these and nothing else, so a new output is a new subscriber, never a change to the runner.
import type { FailureClass } from "./errors.ts";
import { NO_SECRETS, type Redactor } from "./redact.ts";
import type { FleetSample, FleetSummary } from "../fleet/metrics.ts";

export type StepStatus = "passed" | "failed" | "skipped";
export type RunStatus = "passed" | "failed" | "interrupted";

interface Stamped {
  /** Milliseconds since the run started. */
  t: number;
}

export type RunEvent = Stamped &
  (
    | { type: "run.start"; scenario: string; file: string; runDir: string; boards: string[] }
    /** `at`: the step's `file:line:col` in the scenario */
    | { type: "step.start"; path: string; name: string; label: string; board?: string; at?: string }
    | {
        type: "step.end";
        path: string;
        name: string;
        label: string;
        board?: string;
        at?: string;
        status: StepStatus;
        durationMs: number;
        error?: { failureClass: FailureClass; message: string; consoleTail?: string[] };
        /** e.g. the console line an `expect` matched */
        detail?: string;
      }
    /** `printed`: the line with the escapes the board sent, when it had any (for a terminal, after terminalSafe) */
    | { type: "console.line"; board: string; text: string; printed?: string }
    | { type: "console.gap"; board: string; message: string }
    | { type: "match"; board: string; path: string; pattern: string; line: string }
    | { type: "progress"; path: string; board?: string; message: string; fraction?: number }
    | { type: "server.log"; line: string }
    | { type: "log"; level: "info" | "warn" | "error"; source: string; message: string }
    | { type: "retry"; path: string; attempt: number; of: number; reason: string }
    | AttachmentEvent
    // Power-cut sweeps (issue 20): each point's verdict; result.json `sweeps` and the brick map.
    | { type: "sweep.start"; path: string; name: string; board: string; points: number[]; allow: SweepOutcome[] }
    | {
        type: "sweep.point";
        path: string;
        name: string;
        board: string;
        /** 1-based */
        index: number;
        point: number;
        at: SweepAt;
        outcome: SweepOutcome;
        detail: string;
        /** when the point started (its setup), ms since the run started; it ends at `t` */
        start: number;
        /** the allowed outcomes did not include this one */
        failed: boolean;
      }
    // --pause-on-failure: the run held open after a failed step, and how it went on
    | { type: "pause"; step?: string; socket: string; boards: string[] }
    | { type: "resume"; by: "terminal" | "rig resume" | "interrupted"; heldMs: number }
    // The simulated fleet (fleet.start): one sample a second, and its figures when it stops.
    | { type: "fleet.sample"; sample: FleetSample }
    | { type: "fleet.summary"; summary: Omit<FleetSummary, "series"> }
    // Attempts of a scenario (--retries): each attempt's verdict; the last one is the run's.
    | { type: "attempt.start"; n: number; of: number }
    | {
        type: "attempt.end";
        n: number;
        /** ISO time */
        startedAt: string;
        durationMs: number;
        outcome: "passed" | "failed" | "interrupted";
        /** `stack`: a harness bug's, for run.log */
        failure?: { failureClass: FailureClass; message: string; step?: string; stack?: string };
        /** another attempt follows (this one failed with an infrastructure error) */
        retrying: boolean;
      }
    | {
        type: "run.end";
        status: RunStatus;
        failureClass?: FailureClass;
        durationMs: number;
        exitCode: number;
        failedStep?: string;
        /** the failed step's `file:line:col` */
        failedAt?: string;
        message?: string;
      }
  );

// ---- evidence files (issue 12) ----------------------------------------------------------
/** A file of a run worth keeping with its results (browser trace, screenshots); `path` is
 *  relative to the run directory, `step` the step path it belongs to. */
export interface AttachmentEvent {
  type: "attachment";
  name: string;
  path: string;
  contentType: string;
  step?: string;
}

export type SweepOutcome = "old" | "new" | "bricked" | "other";

/** Where a sweep point's cut landed (result.json `at`). */
export interface SweepAt {
  /** what the cut was armed on: a console line, a delay after one, or a flash write offset */
  trigger: "line" | "after" | "write";
  /** the line that armed it, and which match it was */
  line?: string;
  nth?: number;
  /** ms from that line to the power going off */
  after_ms?: number;
  /** the last page the board reported before the power went: its area, bytes written there, of how many */
  area?: string;
  offset?: number;
  total?: number;
  percent?: number;
  /** bytes written across all areas since the cut was armed (boards that report writes) */
  written?: number;
  /** the cut never fired: the point's steps ended first */
  not_reached?: true;
}

export type RunEventType = RunEvent["type"];
export type EventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
/** An event before the bus stamps it with its time. */
export type UnstampedEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, "t"> : never) : never;

export type Listener = (event: RunEvent) => void;

export class EventBus {
  private readonly listeners: Listener[] = [];
  readonly startedAt = performance.now();
  /**
   * Secrets of the run: every event passes through it before any reporter sees it, so the
   * terminal, run.log, result.json, junit.xml and report.html never get a secret value.
   */
  redactor: Redactor = NO_SECRETS;

  subscribe(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  now(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  emit(event: UnstampedEvent): RunEvent {
    const stamped = { ...this.redactor.value(event), t: this.now() } as RunEvent;
    for (const l of this.listeners) {
      try {
        l(stamped);
      } catch (err) {
        // A broken reporter must never take the run down with it.
        process.stderr.write(`otarig: reporter error: ${String(err)}\n`);
      }
    }
    return stamped;
  }
}
