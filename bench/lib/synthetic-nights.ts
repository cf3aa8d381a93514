// Made-up nightly runs for rig history: one merged suite directory per night (result.json over
// all, a directory per scenario with its own result.json and page), with each scenario's
// outcome per night chosen by the caller. What the history test and `npm run bench -- history`
// read, so that dozens of nights of hundreds of scenarios need no board.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CellStatus } from "../../harness/lab/history.ts";
import { writeRunPage, writeSuitePage } from "../../harness/report/html.ts";
import type { ReadResult } from "../../harness/report/read-result.ts";
import type { RunResult } from "../../harness/report/result.ts";
import { writeSuiteJson } from "../../harness/report/suite-json.ts";

export interface Outcome {
  status: CellStatus;
  durationMs: number;
}

export interface NightsOptions {
  nights: number;
  scenarios: string[];
  /** what scenario `s` did on night `n` (0-based); null: it did not run that night */
  outcome(s: number, n: number): Outcome | null;
  /** real report pages (slow for thousands), or a one-line stand-in */
  pages: "real" | "stub";
}

/** The night's directory name: nightly-2026-11-01 … */
export const nightName = (n: number) => `nightly-${startOf(n).slice(0, 10)}`;

function startOf(n: number): string {
  return new Date(Date.UTC(2026, 10, 1 + n, 1, 0, 0)).toISOString();
}

/** Writes the nights under `root`; returns their directories, first night first. */
export function writeSyntheticNights(root: string, opts: NightsOptions): string[] {
  const dirs: string[] = [];
  for (let n = 0; n < opts.nights; n++) {
    const dir = join(root, nightName(n));
    mkdirSync(dir, { recursive: true });
    const results: ReadResult[] = [];
    opts.scenarios.forEach((name, s) => {
      const o = opts.outcome(s, n);
      if (!o) return;
      const runDir = join(dir, name);
      mkdirSync(runDir);
      const r = resultOf(name, runDir, new Date(Date.parse(startOf(n)) + s * 1000).toISOString(), o);
      writeFileSync(join(runDir, "result.json"), `${JSON.stringify(r, null, 2)}\n`);
      if (opts.pages === "real") writeRunPage(r, runDir);
      else writeFileSync(join(runDir, "report.html"), `<!doctype html><title>${name} ${nightName(n)}</title><h1 id="verdict">${o.status}</h1>\n`);
      results.push(r);
    });
    const exitCode = results.some((r) => r.exitCode === 3) ? 3 : results.some((r) => r.exitCode === 1) ? 1 : 0;
    writeSuiteJson(dir, { exitCode, results });
    writeSuitePage(join(dir, "report.html"), results, { title: `otarig merged suite ${nightName(n)}` });
    dirs.push(dir);
  }
  return dirs;
}

const FAILURES: Record<"failed" | "error", { failureClass: "test" | "infrastructure"; message: string; exitCode: number }> = {
  failed: { failureClass: "test", message: "step 9 device.check dut: expected update-available, the board answered: error: http 401", exitCode: 1 },
  error: { failureClass: "infrastructure", message: "step 1 flash dut: the flasher did not finish within 30s", exitCode: 3 },
};

/** A scenario result as a run writes it: a dozen steps, console tails, attempts when retried. */
function resultOf(scenario: string, runDir: string, startedAt: string, o: Outcome): RunResult {
  const labels = ["flash dut", "power dut cycle", "expect dut /boot: slot=A/", "vendor.register", "vendor.upload", "vendor.deploy", "device.configure dut", "device.activate dut", "device.check dut", "device.download dut", "device.install dut", "assert.hash dut"];
  const fail = o.status === "failed" || o.status === "error" ? FAILURES[o.status] : undefined;
  const failAt = fail?.failureClass === "infrastructure" ? 0 : 8;
  const each = Math.round(o.durationMs / labels.length);
  const steps = labels.map((label, i) => ({
    path: String(i + 1),
    name: label.split(" ")[0]!,
    label,
    board: "dut",
    status: (fail && i > failAt ? "skipped" : fail && i === failAt ? "failed" : "passed") as "passed" | "failed" | "skipped",
    startedMs: i * each,
    durationMs: fail && i > failAt ? 0 : each,
    ...(fail && i === failAt ? { error: { failureClass: fail.failureClass, message: fail.message, consoleTail: ["ota> check", "error: http 401"] } } : { detail: `${label} ok` }),
  }));
  const attempts =
    o.status === "flaky"
      ? [
          { n: 1, startedAt, durationMs: Math.round(o.durationMs / 3), outcome: "failed" as const, failure: { failureClass: "infrastructure" as const, message: "relay r1 did not answer", step: "2" } },
          { n: 2, startedAt, durationMs: o.durationMs, outcome: "passed" as const },
        ]
      : undefined;
  return {
    scenario,
    file: `scenarios/${scenario}.yaml`,
    runDir,
    boards: ["dut"],
    status: fail ? "failed" : "passed",
    exitCode: fail?.exitCode ?? 0,
    ...(fail ? { failureClass: fail.failureClass, failedStep: String(failAt + 1), message: fail.message } : {}),
    startedAt,
    durationMs: o.durationMs,
    steps,
    retries: [],
    ...(attempts ? { attempts } : {}),
    consoleTail: { dut: Array.from({ length: 20 }, (_, i) => `[${(i * 0.1).toFixed(3)}] ota> status slot=A version=1.0.0 line ${i}`) },
  };
}
