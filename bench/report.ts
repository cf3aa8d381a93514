// report: how fast a run's report.html is built and opens when its console log is long.
// A made-up run directory (bench/lib/synthetic-run.ts) with N console lines; the page is built
// in-process as `rig report` builds it, then opened from file:// in Debian's Chromium through
// playwright-core: first contentful paint, the page's script done (timeline, console pane),
// scrolling to the last line, and a search over every line. Printed, never asserted.
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { writeRunPage } from "../harness/report/html.ts";
import { readResultFile } from "../harness/report/read-result.ts";
import { launchChromium } from "../test/report/helpers/chromium.ts";
import { fmtMiB, fmtMs, heading, note, numberList, numberOption, table, tempDir, verdict, type Benchmark } from "./lib/common.ts";
import { writeSyntheticRun } from "./lib/synthetic-run.ts";

const TARGET_MS = 1000;

export const reportBench: Benchmark = {
  name: "report",
  summary: "report.html of a run with a long console log: build time, first paint, scroll and search in Chromium",
  optionsHelp: ["--lines N,…   console lines of the made-up run (default 10000,100000)", "--runs N      page loads per size, median shown (default 3)"],
  async run(ctx) {
    const sizes = numberList(ctx, "lines", [10_000, 100_000]);
    const runs = numberOption(ctx, "runs", 3, 20);
    heading(`report: report.html with a long console log, Chromium (median of ${runs} loads)`);
    const tmp = tempDir(ctx, "report");
    const browser = await launchChromium();
    const rows: string[][] = [];
    try {
      for (const lines of sizes) {
        const dir = join(tmp.path, `run-${lines}`);
        (await import("node:fs")).mkdirSync(dir);
        writeSyntheticRun(dir, lines);
        const read = readResultFile(join(dir, "result.json"));
        if (read.kind !== "scenario") throw new Error("synthetic run is not a scenario result");
        const t0 = performance.now();
        const file = writeRunPage(read.result, dir);
        const buildMs = performance.now() - t0;
        const loads: Array<{ fcp: number; ready: number; scroll: number; search: number }> = [];
        for (let i = 0; i < runs; i++) {
          const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
          try {
            loads.push(await measure(page, file, lines));
          } finally {
            await page.close();
          }
        }
        const med = (k: keyof (typeof loads)[0]) => median(loads.map((l) => l[k]));
        rows.push([
          lines.toLocaleString("en-US"),
          fmtMiB(statSync(file).size),
          fmtMs(buildMs),
          fmtMs(med("fcp")),
          fmtMs(med("ready")),
          fmtMs(med("scroll")),
          fmtMs(med("search")),
          lines >= 100_000 ? verdict(med("fcp") <= TARGET_MS) : "-",
        ]);
      }
    } finally {
      await browser.close();
      tmp.cleanup();
    }
    table(["lines", "page", "build", "first paint", "script done", "scroll to end", "search", "≤ 1 s (100k)"], rows);
    note("first paint: first-contentful-paint from navigation; script done: timeline and console pane drawn; scroll and search: until the pane shows the line");
  },
};

async function measure(page: Page, file: string, lines: number): Promise<{ fcp: number; ready: number; scroll: number; search: number }> {
  await page.goto(`file://${file}`, { timeout: 60_000 });
  await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
  const ready = Number(await page.getAttribute("body", "data-ready"));
  const fcp = await page.evaluate(`performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN`);
  const last = `line ${lines - 1} `;
  const scroll = Number(
    await page.evaluate(`new Promise((resolve) => {
      const v = document.getElementById("console-view"), t0 = performance.now();
      v.scrollTop = v.scrollHeight;
      const check = () => [...v.querySelectorAll(".row")].some((r) => r.textContent.includes(${JSON.stringify(last)})) ? resolve(performance.now() - t0) : requestAnimationFrame(check);
      requestAnimationFrame(check);
    })`),
  );
  const t0 = Date.now();
  await page.fill("#console-search", `line ${lines - 2} `);
  await page.waitForFunction(`document.getElementById("console-count").textContent.startsWith("1 of ")`, null, { timeout: 30_000 });
  // the pane waits 120 ms for typing to pause before it filters: that pause is not the search
  const search = Date.now() - t0 - 120;
  return { fcp: Number(fcp), ready, scroll, search };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
