// Runs a bench tool (flasher, relay CLI, reset command) the one way the board layer does it:
// execa, a timeout, stdout+stderr streamed line by line to the caller, and every way it can go
// wrong turned into an InfraError that names the command and shows its last output.
import { execa } from "execa";
import { InfraError, ScenarioError } from "../core/errors.ts";
import { formatDuration } from "../core/duration.ts";
import { stripAnsi } from "./console/ansi.ts";
import { LineAssembler } from "./console/line-assembler.ts";

export interface RunToolOptions {
  /** argv: program first */
  command: string[];
  cwd?: string;
  timeoutMs: number;
  /** what the tool is for, at the start of error messages: "flasher of board dut", "relay r1" */
  what: string;
  /** each output line (stdout and stderr interleaved; "\r" progress updates count as lines) */
  onLine?: (line: string) => void;
  /** lines kept for the error message */
  keepLines?: number;
  env?: Record<string, string>;
  /** aborting it stops the tool (SIGINT / teardown) */
  signal?: AbortSignal;
}

export interface ToolResult {
  lastLines: string[];
}

export async function runTool(options: RunToolOptions): Promise<ToolResult> {
  const [file, ...args] = options.command;
  if (!file) throw new InfraError(`${options.what}: empty command`);
  const keep = options.keepLines ?? 10;
  const last: string[] = [];
  const assembler = new LineAssembler();
  const take = (raw: Buffer) => {
    const line = stripAnsi(raw.toString("utf8"));
    last.push(line);
    if (last.length > keep) last.shift();
    options.onLine?.(line);
  };
  const shown = options.command.map(quote).join(" ");

  const proc = execa(file, args, {
    cwd: options.cwd,
    timeout: options.timeoutMs,
    all: true,
    buffer: false,
    reject: false,
    stdin: "ignore",
    forceKillAfterDelay: 2000,
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  proc.all?.on("data", (chunk: Buffer | string) => {
    for (const line of assembler.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk), 0)) take(line.raw);
  });
  const result = await proc;
  const rest = assembler.flush();
  if (rest) take(rest.raw);

  const output = last.length ? `; last output:\n${last.map((l) => `  | ${l}`).join("\n")}` : "; it printed nothing";
  if (result.isCanceled) {
    throw new InfraError(`${options.what}: \`${shown}\` was stopped (run cancelled)${output}`);
  }
  if (result.code === "ENOENT" || (result.failed && result.exitCode === undefined && !result.timedOut && !result.isTerminated)) {
    throw new InfraError(`${options.what}: could not start \`${shown}\`: ${result.originalMessage || result.shortMessage}`);
  }
  if (result.timedOut) {
    throw new InfraError(`${options.what}: \`${shown}\` timed out after ${formatDuration(options.timeoutMs)}${output}`);
  }
  if (result.isTerminated) {
    throw new InfraError(`${options.what}: \`${shown}\` was killed by ${result.signal ?? "a signal"}${output}`);
  }
  if (result.exitCode !== 0) {
    throw new InfraError(`${options.what}: \`${shown}\` exited with code ${result.exitCode}${output}`);
  }
  return { lastLines: last };
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
