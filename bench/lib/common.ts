// Shared pieces of the benchmarks: the machine line, tables, temp dirs, child processes and
// /proc readings. Benchmarks print figures; nothing here asserts a timing.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (bench/lib/ → ../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** `--import` value that loads tsx from this checkout whatever the working directory. */
export const TSX_LOADER = import.meta.resolve("tsx");

export interface BenchContext {
  /** `--key value` options given after the benchmark names */
  options: Map<string, string>;
  /** keep temporary directories (run dirs, logs) for inspection */
  keep: boolean;
}

export interface Benchmark {
  name: string;
  summary: string;
  /** option lines for --help */
  optionsHelp: string[];
  run(ctx: BenchContext): Promise<void>;
}

// ---- machine ------------------------------------------------------------------------------

export function machineLine(): string {
  const list = cpus();
  const model = list[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  const load = loadavg().map((l) => l.toFixed(2)).join(" ");
  return `machine: ${list.length} cores (${model}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, node ${process.version}, ${process.platform}/${process.arch}, load avg ${load}`;
}

/** Processes other than ours using CPU right now would skew the figures: say so. */
export function busyWarning(): string | undefined {
  const [one] = loadavg();
  const cores = cpus().length;
  if (one !== undefined && one > cores * 0.5) {
    return `note: load average ${one.toFixed(2)} on ${cores} cores before the benchmark: other work on this machine skews these figures`;
  }
  return undefined;
}

// ---- output ------------------------------------------------------------------------------

export function heading(text: string): void {
  process.stdout.write(`\n== ${text} ==\n`);
}

export function note(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A plain text table: right-aligned numbers, left-aligned text. */
export function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+~≤≥<>]?[\d.,]+\s*\S*$|^-$/.test(r[i] ?? "")));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        return numeric[i] ? c.padStart(w) : c.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  const lines = [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)];
  process.stdout.write(`${lines.join("\n")}\n`);
}

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function fmtMiB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** "met" / "MISSED" against a target, for the last column of a table. */
export function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

// ---- options -----------------------------------------------------------------------------

export function numberList(ctx: BenchContext, key: string, fallback: number[]): number[] {
  const raw = ctx.options.get(key);
  if (raw === undefined) return fallback;
  const list = raw.split(",").map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0)) {
    throw new UsageError(`--${key}: expected a comma-separated list of positive numbers, got "${raw}"`);
  }
  return list;
}

export function numberOption(ctx: BenchContext, key: string, fallback: number, max: number): number {
  const raw = ctx.options.get(key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`--${key}: expected a number in (0, ${max}], got "${raw}"`);
  return n;
}

export class UsageError extends Error {}

// ---- temp dirs ---------------------------------------------------------------------------

export interface TempDir {
  path: string;
  /** removes it unless --keep was given */
  cleanup(): void;
}

export function tempDir(ctx: BenchContext, prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `otarig-bench-${prefix}-`));
  return {
    path,
    cleanup: () => {
      if (ctx.keep) note(`(kept ${path})`);
      else rmSync(path, { recursive: true, force: true });
    },
  };
}

export function writeText(path: string, text: string): void {
  writeFileSync(path, text);
}

// ---- child processes ---------------------------------------------------------------------

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms from spawn to exit */
  wallMs: number;
  timedOut: boolean;
}

/** Runs a command to its end (SIGTERM, then SIGKILL, at the time limit), output to `outFile`. */
export function runToEnd(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; outFile: string; timeoutMs: number },
): Promise<Finished> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.stderr.on("data", (c: Buffer) => chunks.push(c));
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), 5000);
    }, options.timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.once("close", (code, signal) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      writeFileSync(options.outFile, Buffer.concat(chunks));
      done({ code, signal, wallMs, timedOut });
    });
  });
}

/** Stops a child we started: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(t);
}

// ---- /proc -------------------------------------------------------------------------------

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM), in bytes; undefined when unreadable. */
export function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) a process has used, from /proc/<pid>/stat. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    // USER_HZ is 100 on every Linux Node supports.
    return ((utime + stime) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the highest seen. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let max = procStatusBytes(pid, "VmRSS") ?? 0;
  const timer = setInterval(() => {
    const v = procStatusBytes(pid, "VmRSS");
    if (v !== undefined && v > max) max = v;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const v = procStatusBytes(pid, "VmRSS");
      if (v !== undefined && v > max) max = v;
      return max;
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
