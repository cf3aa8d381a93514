// Between attempts of a scenario (--retries): what the failed attempt left in the run directory
// (board logs, the server's data, the virtual boards' flash, attachments) moves to attempt-<n>/,
// so the next attempt starts from scratch and the failed one stays there to read. The run-wide
// files (run.log and the reports written at the end) stay.
import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";

const RUN_WIDE = new Set(["run.log", "result.json", "junit.xml", "report.html", "events.jsonl"]);

export function setAsideAttempt(runDir: string, n: number, warn: (message: string) => void): string {
  const dir = join(runDir, `attempt-${n}`);
  const entries = readdirSync(runDir).filter((name) => !RUN_WIDE.has(name) && !/^attempt-\d+$/.test(name));
  mkdirSync(dir, { recursive: true });
  for (const name of entries) {
    try {
      renameSync(join(runDir, name), join(dir, name));
    } catch (err) {
      warn(`could not move ${join(runDir, name)} aside for the next attempt: ${(err as Error).message}`);
    }
  }
  return dir;
}
