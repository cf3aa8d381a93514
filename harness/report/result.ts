// Folds a run's events into the result model that result.json, junit.xml and the summary print.
import { basename } from "node:path";
import { EXIT_CODES, type FailureClass } from "../core/errors.ts";
import type { EventOf, RunEvent, RunStatus, StepStatus, SweepAt, SweepOutcome } from "../core/events.ts";
import type { BoardInfo, RunEnvironment } from "./run-info.ts";
import type { FleetSummary } from "../fleet/metrics.ts";

export interface StepResult {
  path: string;
  name: string;
  label: string;
  board?: string;
  /** the step's `file:line:col` in the scenario */
  at?: string;
  status: StepStatus;
  startedMs: number;
  durationMs: number;
  detail?: string;
  error?: { failureClass: FailureClass; message: string; consoleTail?: string[] };
}

export interface RunResult {
  scenario: string;
  file: string;
  runDir: string;
  boards: string[];
  status: RunStatus | "running";
  exitCode?: number;
  failureClass?: FailureClass;
  failedStep?: string;
  /** the failed step's `file:line:col` */
  failedAt?: string;
  message?: string;
  startedAt: string;
  durationMs: number;
  steps: StepResult[];
  retries: EventOf<"retry">[];
  /** every attempt of the scenario (--retries); the last is the verdict. `steps` are the last attempt's. */
  attempts?: AttemptResult[];
  server?: ServerInfo;
  /** the last lines each board printed, kept for failure reports */
  consoleTail: Record<string, string[]>;
  /** serial, port, profile, power and reset of each board (absent in results of older versions) */
  boardInfo?: BoardInfo[];
  /** host, versions, rig, shard */
  environment?: RunEnvironment;
  /** evidence files (browser trace, screenshots), paths relative to the run dir */
  attachments?: Attachment[];
  /** the simulated fleet's figures (fleet.start), with one sample a second in `series` */
  fleet?: FleetSummary;
  /** power-cut sweeps (issue 20): each point, where its cut landed and what the board booted */
  sweeps?: SweepResult[];
}

/** result.json `sweeps[]`: these names are a contract (CI scripts parse them). */
export interface SweepResult {
  name: string;
  points: SweepPointResult[];
}

export interface SweepPointResult {
  index: number;
  at: SweepAt;
  outcome: SweepOutcome;
  detail: string;
}

export interface Attachment {
  name: string;
  path: string;
  contentType: string;
  /** the step path it belongs to, e.g. "5" */
  step?: string;
}

export interface AttemptResult {
  n: number;
  /** ISO time */
  startedAt: string;
  durationMs: number;
  outcome: "passed" | "failed" | "interrupted";
  failure?: { failureClass: FailureClass; message: string; step?: string };
}

export interface ServerInfo {
  mode: string;
  url: string;
  containerId?: string;
  image?: string;
}

const TAIL = 20;

/**
 * The result of a scenario file that did not load: nothing ran, so it has no steps and no run
 * directory of its own; it is reported (junit.xml, the suite page) so a CI run shows why.
 */
export function invalidFileResult(file: string, errors: string[], failedAt: string | undefined, reportDir: string): RunResult {
  return {
    scenario: basename(file).replace(/\.ya?ml$/, ""),
    file,
    runDir: reportDir,
    boards: [],
    status: "failed",
    exitCode: EXIT_CODES.scenario,
    failureClass: "scenario",
    ...(failedAt ? { failedAt } : {}),
    message: `${errors.join("\n")}\n(this file did not load, so nothing was run)`,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    steps: [],
    retries: [],
    consoleTail: {},
  };
}

export class ResultCollector {
  readonly result: RunResult;
  private readonly open = new Map<string, { event: EventOf<"step.start"> }>();
  /** fleet samples before the fleet's summary arrives */
  private fleetSeries: FleetSummary["series"] | undefined;
  /** sweeps by their step path */
  private readonly sweeps = new Map<string, SweepResult>();

  constructor(scenario: string, file: string, runDir: string) {
    this.result = {
      scenario,
      file,
      runDir,
      boards: [],
      status: "running",
      startedAt: new Date().toISOString(),
      durationMs: 0,
      steps: [],
      retries: [],
      attempts: [],
      consoleTail: {},
    };
  }

  readonly listener = (e: RunEvent): void => {
    const r = this.result;
    switch (e.type) {
      case "run.start":
        r.boards = e.boards;
        break;
      case "step.start":
        this.open.set(e.path, { event: e });
        break;
      case "step.end": {
        const start = this.open.get(e.path)?.event;
        this.open.delete(e.path);
        r.steps.push({
          path: e.path,
          name: e.name,
          label: e.label,
          ...(e.board ? { board: e.board } : {}),
          ...(e.at ? { at: e.at } : {}),
          status: e.status,
          startedMs: start?.t ?? e.t - e.durationMs,
          durationMs: e.durationMs,
          ...(e.detail ? { detail: e.detail } : {}),
          ...(e.error ? { error: e.error } : {}),
        });
        break;
      }
      case "console.line": {
        const tail = (r.consoleTail[e.board] ??= []);
        tail.push(e.text);
        if (tail.length > TAIL) tail.shift();
        break;
      }
      case "retry":
        r.retries.push(e);
        break;
      case "attachment":
        (r.attachments ??= []).push({ name: e.name, path: e.path, contentType: e.contentType, ...(e.step ? { step: e.step } : {}) });
        break;
      case "fleet.sample":
        if (r.fleet) r.fleet.series.push(e.sample);
        else (this.fleetSeries ??= []).push(e.sample);
        break;
      case "fleet.summary":
        r.fleet = { ...e.summary, series: r.fleet?.series ?? this.fleetSeries ?? [] };
        this.fleetSeries = undefined;
        break;
      case "sweep.start": {
        const sweep: SweepResult = { name: e.name, points: [] };
        this.sweeps.set(e.path, sweep);
        (r.sweeps ??= []).push(sweep);
        break;
      }
      case "sweep.point":
        this.sweeps.get(e.path)?.points.push({ index: e.index, at: e.at, outcome: e.outcome, detail: e.detail });
        break;
      case "attempt.start":
        if (e.n > 1) {
          r.steps = []; // the verdict's steps; earlier attempts keep their failure in `attempts`
          delete r.fleet;
          this.fleetSeries = undefined;
          this.open.clear();
          delete r.sweeps;
          this.sweeps.clear();
        }
        break;
      case "attempt.end":
        (r.attempts ??= []).push({
          n: e.n,
          startedAt: e.startedAt,
          durationMs: e.durationMs,
          outcome: e.outcome,
          ...(e.failure ? { failure: e.failure } : {}),
        });
        break;
      case "run.end":
        r.status = e.status;
        r.exitCode = e.exitCode;
        r.durationMs = e.durationMs;
        if (e.failureClass) r.failureClass = e.failureClass;
        if (e.failedStep) r.failedStep = e.failedStep;
        if (e.failedAt) r.failedAt = e.failedAt;
        if (e.message) r.message = e.message;
        break;
    }
  };

  setServer(info: ServerInfo): void {
    this.result.server = info;
  }

  setSetting(boards: BoardInfo[], environment: RunEnvironment): void {
    this.result.boardInfo = boards;
    this.result.environment = environment;
  }
}
