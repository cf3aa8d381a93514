import { execa, type ResultPromise } from "execa";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));

export function tempDir(prefix = "otarig-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Gives this test file a cache dir of its own (XDG_CACHE_HOME, inherited by the rig subprocesses
 * it starts): its board locks and its virtual boards' flash are nobody else's, so scenario runs of
 * other test files neither wait for its board commands nor see their flash. Call at file level.
 */
export function useOwnCacheDir(): string {
  const cache = tempDir("otarig-bench-cache-");
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  });
  return cache;
}

/** Runs `rig …` as a user would (`npm run rig -- …`), as a subprocess in the project root. */
export function rig(
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): ResultPromise<{ reject: false; all: true; cwd: string; timeout: number; env: Record<string, string> }> {
  return execa(process.execPath, ["--import", "tsx", join(ROOT, "harness/cli/main.ts"), ...args], {
    reject: false,
    all: true,
    cwd: ROOT,
    timeout: options.timeoutMs ?? 120_000,
    env: { NO_COLOR: "1", ...options.env },
  });
}

/**
 * Resolves once everything the child has printed so far matches `pattern` (output split across
 * chunks included); rejects after `timeoutMs` naming what was awaited, with the output's tail.
 */
export function waitForOutput(child: { all?: NodeJS.ReadableStream | null }, pattern: RegExp | string, what: string, timeoutMs = 60_000): Promise<void> {
  let seen = "";
  return new Promise<void>((resolve, reject) => {
    const matches = () => (typeof pattern === "string" ? seen.includes(pattern) : pattern.test(seen));
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (!matches()) return;
      clearTimeout(timer);
      child.all!.off("data", onData);
      resolve();
    };
    const timer = setTimeout(() => {
      child.all!.off("data", onData);
      reject(new Error(`${what}: not seen within ${timeoutMs / 1000}s; last output:\n${seen.slice(-2000)}`));
    }, timeoutMs);
    child.all!.on("data", onData);
  });
}

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** PIDs of processes whose command line mentions `needle` (a run directory, say). */
export async function processesMentioning(needle: string): Promise<string[]> {
  const { stdout } = await execa("ps", ["-eo", "pid=,args="], { reject: false });
  return stdout
    .split("\n")
    .filter((l) => l.includes(needle) && !l.includes("ps -eo"))
    .map((l) => l.trim());
}
