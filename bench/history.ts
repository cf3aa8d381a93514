// history: rig history over many nights of many scenarios. Made-up merged suite directories
// (bench/lib/synthetic-nights.ts, stand-in scenario pages), then `rig history` through the CLI
// (bin/rig.js, as a user runs it): its wall time, history.html's size, and in Chromium (from
// file://) the first contentful paint and the page's script done. Printed, never asserted.
import { statSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "../test/report/helpers/chromium.ts";
import { fmtMiB, fmtMs, heading, note, numberList, numberOption, ROOT, runToEnd, table, tempDir, verdict, type Benchmark } from "./lib/common.ts";
import { writeSyntheticNights, type Outcome } from "./lib/synthetic-nights.ts";

/** "Without delay": the page and the CLI each within a second for a window of dozens of nights. */
const TARGET_MS = 1000;

export const historyBench: Benchmark = {
  name: "history",
  summary: "rig history over N nights of M scenarios: CLI wall time, page size, first paint in Chromium",
  optionsHelp: ["--nights N     nights (merged suite directories) in the window (default 60)", "--scenarios N,…  scenarios per night (default 100,300)", "--loads N     page loads per size, median shown (default 3)"],
  async run(ctx) {
    const nights = numberOption(ctx, "nights", 60, 400);
    const sizes = numberList(ctx, "scenarios", [100, 300]);
    const loads = numberOption(ctx, "loads", 3, 20);
    heading(`history: rig history over ${nights} nights (CLI, then Chromium: median of ${loads} loads)`);
    const tmp = tempDir(ctx, "history");
    const browser = await launchChromium();
    const rows: string[][] = [];
    try {
      for (const count of sizes) {
        const root = join(tmp.path, `s${count}`);
        const scenarios = Array.from({ length: count }, (_, i) => `scenario-${String(i).padStart(3, "0")}`);
        const t0 = performance.now();
        const dirs = writeSyntheticNights(root, { nights, scenarios, outcome, pages: "stub" });
        const setupMs = performance.now() - t0;
        const resultBytes = dirs.reduce((s, d) => s + statSync(join(d, "result.json")).size, 0);
        const out = join(root, "history");
        const cli = await runToEnd(process.execPath, [join(ROOT, "bin/rig.js"), "history", ...dirs, "--out", out], { cwd: ROOT, outFile: join(root, "cli.out"), timeoutMs: 300_000 });
        if (cli.code !== 0) throw new Error(`rig history exited ${cli.code} (see ${join(root, "cli.out")})`);
        const file = join(out, "history.html");
        const paints: number[] = [];
        const readies: number[] = [];
        for (let i = 0; i < loads; i++) {
          const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
          try {
            const started = Date.now();
            await page.goto(`file://${file}`, { timeout: 60_000 });
            await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
            readies.push(Date.now() - started);
            paints.push(Number(await page.evaluate(`performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN`)));
          } finally {
            await page.close();
          }
        }
        rows.push([
          `${nights} × ${count}`,
          fmtMiB(resultBytes),
          fmtMs(setupMs),
          fmtMs(cli.wallMs),
          fmtMiB(statSync(file).size),
          fmtMs(median(paints)),
          fmtMs(median(readies)),
          verdict(cli.wallMs <= TARGET_MS * 3 && median(paints) <= TARGET_MS),
        ]);
      }
    } finally {
      await browser.close();
      tmp.cleanup();
    }
    table(["nights × scenarios", "result.json read", "made up in", "rig history (CLI)", "page", "first paint", "page ready", "CLI ≤ 3 s, paint ≤ 1 s"], rows);
    note("rig history: the CLI's whole wall time (start, reading every result.json, writing history.html and history.json); page ready: navigation to the page's script done");
  },
};

/** A plausible nightly mix, the same on every machine: mostly passed, some flaky, a few failed or errored, rarely not run. */
function outcome(s: number, n: number): Outcome | null {
  const x = hash(s * 7919 + n * 104_729) % 1000;
  const durationMs = 2000 + (s % 17) * 900 + (hash(s + n) % 400);
  if (x < 10) return null;
  if (x < 40) return { status: "flaky", durationMs: durationMs * 2 };
  if (x < 60) return { status: "failed", durationMs };
  if (x < 75) return { status: "error", durationMs: durationMs / 4 };
  return { status: "passed", durationMs };
}

function hash(v: number): number {
  let h = v ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
