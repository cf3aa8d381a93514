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
import { trackChild } from "../core/child-registry.ts";
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
  const keep = options.keepLines ?? 10;
  const last: string[] = [];
  const assembler = new LineAssembler();
  const take = (raw: Buffer) => {
    const line = stripAnsi(raw.toString("utf8"));
    last.push(line);
    if (last.length > keep) last.shift();
    options.onLine?.(line);
  };
  const note = options.onNote ?? options.onLine ?? (() => {});

  const proc = execa(file, args, {
    cwd: options.cwd,
    all: true,
    buffer: false,
    reject: false,
    stdin: "ignore",
    detached: true, // its own process group: stopping it stops what it forked too
    ...(options.env ? { env: options.env } : {}),
  });
  const untrack = proc.pid !== undefined ? trackChild(proc.pid, `${options.what}: ${shown}`) : () => {};
  proc.all?.on("data", (chunk: Buffer | string) => {
    for (const line of assembler.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk), 0)) take(line.raw);
  });

  // Stopping: at most once, for the first reason that comes (timeout or the caller's abort).
  let stopped: { why: "timeout" | "cancelled"; report: Promise<StopReport> } | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    if (stopped || proc.pid === undefined) return;
    const grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const report = stopGroup(proc.pid, grace).then((r) => {
      note(`otarig: ${describeStop(why, abortReason(options.signal), options.timeoutMs, r, grace, proc.pid!)}`);
      return r;
    });
    stopped = { why, report };
  };
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = () => stop("cancelled");
  options.signal?.addEventListener("abort", onAbort, { once: true });

  // The leader's exit, not the end of its output: a child it left behind may hold the pipe open.
  const leaderExit = new Promise<void>((resolve) => {
    proc.once("exit", () => resolve());
    proc.once("error", () => resolve());
  });
  let result;
  try {
    await leaderExit;
    // The leader may be gone while what it forked lives on in its group: those go too.
    if (!stopped && proc.pid !== undefined) {
      const rest = await stopGroup(proc.pid, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      if (rest.how !== "gone") note(`otarig: ${options.what}: stopped ${rest.pids.length} process(es) it left behind (${rest.how})`);
    }
    if (stopped) await stopped.report;
    result = await proc;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    untrack();
  }
  const rest = assembler.flush();
  if (rest) take(rest.raw);

  const output = last.length ? `; last output:\n${last.map((l) => `  | ${l}`).join("\n")}` : "; it printed nothing";
  if (stopped) {
    const r = await stopped.report;
    const how = r.how === "SIGTERM" ? "stopped with SIGTERM" : r.how === "SIGKILL" ? "killed with SIGKILL after ignoring SIGTERM" : r.how === "survived" ? "NOT stopped even by SIGKILL" : "stopped";
    const reason = stopped.why === "timeout" ? `timed out after ${formatDuration(options.timeoutMs)}` : `was stopped (${abortReason(options.signal)})`;
    throw new InfraError(`${options.what}: \`${shown}\` ${reason}; ${how}${output}`);
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
  return { lastLines: last };
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
