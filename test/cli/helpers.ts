import { execa, type ResultPromise } from "execa";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));

export function tempDir(prefix = "otarig-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
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
