// Runs a bench tool (flasher, relay CLI, reset command) the one way the board layer does it:
// execa, a timeout, stdout+stderr streamed line by line to the caller, and every way it can go
// wrong turned into an InfraError that names the command and shows its last output.
// The tool runs in its own process group. On its timeout or when the caller's signal aborts
// (step timeout, Ctrl-C, a failed parallel branch) the whole group gets SIGTERM, `killGraceMs`
// to go, then SIGKILL; runTool returns only once no process of the group is left.
import { execa } from "execa";
import { InfraError, ScenarioError } from "../core/errors.ts";
import { formatDuration } from "../core/duration.ts";
import { stopGroup, type StopReport } from "../core/process-group.ts";
import { noteLeftBehind, trackChild } from "../core/child-registry.ts";
import { stripAnsi } from "./console/ansi.ts";
import { LineAssembler } from "./console/line-assembler.ts";

export const DEFAULT_KILL_GRACE_MS = 5000;

export interface RunToolOptions {
  /** argv: program first */
  command: string[];
  cwd?: string;
  timeoutMs: number;
  /** what the tool is for, at the start of error messages: "flasher of board dut", "relay r1" */
  what: string;
  /** each output line (stdout and stderr interleaved; "\r" progress updates count as lines) */
  onLine?: (line: string) => void;
  /** what the harness did to the tool (killed it, and how); default: onLine */
  onNote?: (message: string) => void;
  /** lines kept for the error message */
  keepLines?: number;
  env?: Record<string, string>;
  /** aborting it stops the tool (step timeout, SIGINT, teardown) */
  signal?: AbortSignal;
  /** SIGTERM -> SIGKILL grace when stopping the tool (default 5 s) */
  killGraceMs?: number;
}

export interface ToolResult {
  lastLines: string[];
}

export async function runTool(options: RunToolOptions): Promise<ToolResult> {
  const [file, ...args] = options.command;
  if (!file) throw new InfraError(`${options.what}: empty command`);
  const shown = options.command.map(quote).join(" ");
  if (options.signal?.aborted) throw new InfraError(`${options.what}: \`${shown}\` not started (the step was already stopped)`);
  const tail = new OutputTail(options.keepLines ?? 10, options.onLine);

  const proc = execa(file, args, {
    cwd: options.cwd,
    all: true,
    buffer: false,
    reject: false,
    stdin: "ignore",
    detached: true, // its own process group: stopping it stops what it forked too
    ...(options.env ? { env: options.env } : {}),
  });
  // Recorded by what it is for, not its argv: a state file is no place for arguments that may be secret.
  const untrack = proc.pid !== undefined ? trackChild(proc.pid, options.what) : () => {};
  proc.all?.on("data", (chunk: Buffer | string) => tail.push(chunk));
  // The leader's exit, not the end of its output: a child it left behind may hold the pipe open.
  const leaderExit = new Promise<void>((resolve) => {
    proc.once("exit", () => resolve());
    proc.once("error", () => resolve());
  });
  const stopper = new GroupStopper(proc.pid, options);
  let result;
  let survivors: StopReport | undefined;
  try {
    await leaderExit;
    survivors = await stopper.settle();
    // A survivor may hold the output pipe open for ever: stop reading rather than wait for its end.
    if (survivors) abandon(proc);
    else result = await proc;
  } finally {
    stopper.dispose();
    if (!survivors) untrack(); // still running: the registry keeps it, for the watchdog and the next start
  }
  tail.flush();

  const output = tail.lines.length ? `; last output:\n${tail.lines.map((l) => `  | ${l}`).join("\n")}` : "; it printed nothing";
  const stopped = await stopper.outcome();
  if (survivors || !result) {
    const pgid = proc.pid!;
    const pids = survivors?.pids ?? [];
    noteLeftBehind({ pgid, what: options.what, pids });
    const why = stopped ? (stopped.why === "timeout" ? `timed out after ${formatDuration(options.timeoutMs)}` : `was stopped (${abortReason(options.signal)})`) : "ended";
    throw new InfraError(
      `${options.what}: \`${shown}\` ${why}, and its process group ${pgid} (${pids.join(", ")}) is STILL running after SIGKILL ` +
        `(a process in uninterruptible sleep, D state?): the run ends here, and the locks of its boards stay marked until it is gone${output}`,
    );
  }
  if (stopped) {
    const reason = stopped.why === "timeout" ? `timed out after ${formatDuration(options.timeoutMs)}` : `was stopped (${abortReason(options.signal)})`;
    throw new InfraError(`${options.what}: \`${shown}\` ${reason}; ${HOW[stopped.report.how]}${output}`);
  }
  if (result.code === "ENOENT" || (result.failed && result.exitCode === undefined && !result.isTerminated)) {
    throw new InfraError(`${options.what}: could not start \`${shown}\`: ${result.originalMessage || result.shortMessage}`);
  }
  if (result.isTerminated) {
    throw new InfraError(`${options.what}: \`${shown}\` was killed by ${result.signal ?? "a signal"}${output}`);
  }
  if (result.exitCode !== 0) {
    throw new InfraError(`${options.what}: \`${shown}\` exited with code ${result.exitCode}${output}`);
  }
  return { lastLines: tail.lines };
}

const HOW: Record<StopReport["how"], string> = {
  gone: "stopped",
  SIGTERM: "stopped with SIGTERM",
  SIGKILL: "killed with SIGKILL after ignoring SIGTERM",
  survived: "NOT stopped even by SIGKILL",
};

/** The tool's output as lines: each goes to the caller, the last few are kept for messages. */
class OutputTail {
  readonly lines: string[] = [];
  private readonly assembler = new LineAssembler();

  constructor(
    private readonly keep: number,
    private readonly onLine?: (line: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    for (const line of this.assembler.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk), 0)) this.take(line.raw);
  }

  flush(): void {
    const rest = this.assembler.flush();
    if (rest) this.take(rest.raw);
  }

  private take(raw: Buffer): void {
    const line = stripAnsi(raw.toString("utf8"));
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
    this.onLine?.(line);
  }
}

/**
 * Stops the tool's process group at most once, for the first reason that comes: its timeout or
 * the caller's abort. After the leader exits, settle() also stops what it left behind.
 */
class GroupStopper {
  private stopped: { why: "timeout" | "cancelled"; report: Promise<StopReport> } | undefined;
  private leaderDone = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.stop("cancelled");
  private readonly graceMs: number;
  private readonly note: (message: string) => void;

  constructor(
    private readonly pgid: number | undefined,
    private readonly options: RunToolOptions,
  ) {
    this.graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.note = options.onNote ?? options.onLine ?? (() => {});
    this.timer = setTimeout(() => this.stop("timeout"), options.timeoutMs);
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  private stop(why: "timeout" | "cancelled"): void {
    if (this.stopped || this.leaderDone || this.pgid === undefined) return;
    const pgid = this.pgid;
    const report = stopGroup(pgid, this.graceMs).then((r) => {
      this.note(`otarig: ${describeStop(why, abortReason(this.options.signal), this.options.timeoutMs, r, this.graceMs, pgid)}`);
      return r;
    });
    this.stopped = { why, report };
  }

  /**
   * Once the leader has exited: no process of the group is left when this resolves, unless one
   * survived even SIGKILL: then its report is returned.
   */
  async settle(): Promise<StopReport | undefined> {
    if (this.stopped) {
      const report = await this.stopped.report;
      return report.how === "survived" ? report : undefined;
    }
    // The tool ended by itself: a timeout or abort from now on is not the tool's verdict.
    this.leaderDone = true;
    this.dispose();
    if (this.pgid === undefined) return undefined;
    const rest = await stopGroup(this.pgid, this.graceMs);
    if (rest.how !== "gone") this.note(`otarig: ${this.options.what}: stopped ${rest.pids.length} process(es) it left behind (${rest.how})`);
    return rest.how === "survived" ? rest : undefined;
  }

  async outcome(): Promise<{ why: "timeout" | "cancelled"; report: StopReport } | undefined> {
    return this.stopped ? { why: this.stopped.why, report: await this.stopped.report } : undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener("abort", this.onAbort);
  }
}

/** Lets go of a tool whose group cannot be stopped: its output is no longer read, its end not awaited. */
function abandon(proc: ReturnType<typeof execa>): void {
  proc.catch(() => {});
  proc.all?.destroy();
  proc.stdout?.destroy();
  proc.stderr?.destroy();
}

/** Why the caller aborted: the runner aborts with a sentence ("step 3 timed out after 60s"). */
function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (typeof r === "string") return r;
  if (r instanceof Error && r.name !== "AbortError") return r.message;
  return "run cancelled";
}

function describeStop(why: "timeout" | "cancelled", reason: string, timeoutMs: number, r: StopReport, graceMs: number, pgid: number): string {
  const cause = why === "timeout" ? `timed out after ${formatDuration(timeoutMs)}` : `stopped (${reason})`;
  const group = `process group ${pgid} (${r.pids.length} process${r.pids.length === 1 ? "" : "es"}: ${r.pids.join(", ")})`;
  switch (r.how) {
    case "gone":
      return `${cause}; the tool had already exited`;
    case "SIGTERM":
      return `${cause}; sent SIGTERM to ${group}; gone after ${formatDuration(r.tookMs)}`;
    case "SIGKILL":
      return `${cause}; sent SIGTERM to ${group}; still running after the ${formatDuration(graceMs)} grace, sent SIGKILL; gone after ${formatDuration(r.tookMs)}`;
    case "survived":
      return `${cause}; sent SIGTERM then SIGKILL to ${group}; some of it is STILL running (uninterruptible?)`;
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Fills `{name}` placeholders in an argv template. An unknown name is an error (a typo in a rig
 * file must not reach a flasher as a literal "{prot}"); braces that are not a placeholder-shaped
 * word, like JSON, are left alone.
 */
export function fillPlaceholders(template: string, values: Record<string, string>, what: string): string {
  return template.replace(/\{([A-Za-z_][\w.-]*)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) {
      const known = Object.keys(values).sort().map((k) => `{${k}}`).join(", ");
      throw new ScenarioError(`${what}: unknown placeholder ${whole} in "${template}" (known: ${known})`);
    }
    return value;
  });
}
