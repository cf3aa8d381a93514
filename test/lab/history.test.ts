// rig history over ten made-up nights (merged suite directories with real report pages): the
// grid, the failure streaks, flakiness and duration trend in history.json, the links, and the
// page in real Chromium; directories that hold no run.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nightName, writeSyntheticNights, type Outcome } from "../../bench/lib/synthetic-nights.ts";
import { cellStatus, type History } from "../../harness/lab/history.ts";
import { rig, tempDir } from "../cli/helpers.ts";
import { launchChromium } from "../report/helpers/chromium.ts";

const NIGHTS = 10;
/** Each scenario's nights: what a QA lead should read off the page. */
const PLAN: Record<string, (n: number) => Outcome | null> = {
  steady: () => ({ status: "passed", durationMs: 1000 }),
  "broke-on-7": (n) => ({ status: n < 6 ? "passed" : "failed", durationMs: 1200 }),
  flaky: (n) => ({ status: [1, 4, 7].includes(n) ? "flaky" : "passed", durationMs: 900 }),
  "infra-once": (n) => ({ status: n === 3 ? "error" : "passed", durationMs: 800 }),
  "fixed-on-6": (n) => ({ status: n >= 2 && n <= 4 ? "failed" : "passed", durationMs: 700 }),
  "new-on-5": (n) => (n < 4 ? null : { status: "passed", durationMs: 500 }),
  slower: (n) => ({ status: "passed", durationMs: n < 8 ? 1000 : 3000 }),
  "error-now": (n) => ({ status: n === 9 ? "error" : "passed", durationMs: 600 }),
};
const SCENARIOS = Object.keys(PLAN);

const dir = tempDir("otarig-history-");
let nights: string[];
let out: string;
let run: Awaited<ReturnType<typeof rig>>;
let history: History & { skipped: Array<{ dir: string; why: string }> };
let browser: Browser | undefined;

beforeAll(async () => {
  nights = writeSyntheticNights(join(dir, "runs"), { nights: NIGHTS, scenarios: SCENARIOS, outcome: (s, n) => PLAN[SCENARIOS[s]!]!(n), pages: "real" });
  mkdirSync(join(dir, "runs", "empty"));
  out = join(dir, "runs", "history");
  // Nights in no particular order, a directory with no run and one that does not exist.
  const shuffled = [...nights.slice(5), join(dir, "runs", "empty"), ...nights.slice(0, 5).reverse(), join(dir, "runs", "gone")];
  run = await rig(["history", ...shuffled, "--out", out]);
  history = JSON.parse(readFileSync(join(out, "history.json"), "utf8")) as typeof history;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = (name: string) => history.scenarios.find((s) => s.scenario === name)!;

describe("rig history over 10 nights", () => {
  it("writes history.html and history.json, naming and skipping the directories that hold no run", () => {
    expect(run.exitCode, run.all).toBe(0);
    expect(existsSync(join(out, "history.html"))).toBe(true);
    expect(run.stdout).toMatch(/history\.html: 10 runs, 8 scenarios, 2 failing now, 1 flaky/);
    expect(run.stderr).toMatch(/skipped .*runs\/empty: no result\.json here/);
    expect(run.stderr).toMatch(/skipped .*runs\/gone: no such directory/);
    expect(history.skipped.map((s) => s.dir.split("/").at(-1))).toEqual(["empty", "gone"]);
  });

  it("puts the runs in the order they started, with each night's counts", () => {
    expect(history.runs.map((r) => r.id)).toEqual(Array.from({ length: NIGHTS }, (_, n) => nightName(n)));
    expect(history.runs[9]!.counts).toEqual({ passed: 6, failed: 1, error: 1, flaky: 0 });
    expect(history.runs[1]!.counts).toEqual({ passed: 6, failed: 0, error: 0, flaky: 1 });
    expect(history.runs[0]!.counts).toEqual({ passed: 7, failed: 0, error: 0, flaky: 0 }); // new-on-5 did not run
  });

  it("has a cell per scenario and night: passed, failed, error, flaky, or none when it did not run", () => {
    const statuses = (name: string) => row(name).cells.map((c) => c?.status ?? "-");
    expect(statuses("broke-on-7")).toEqual([...Array(6).fill("passed"), ...Array(4).fill("failed")]);
    expect(statuses("flaky")).toEqual(["passed", "flaky", "passed", "passed", "flaky", "passed", "passed", "flaky", "passed", "passed"]);
    expect(statuses("infra-once")[3]).toBe("error");
    expect(statuses("new-on-5")).toEqual([...Array(4).fill("-"), ...Array(6).fill("passed")]);
    expect(row("flaky").cells[1]!.attempts).toBe(2);
    expect(row("broke-on-7").cells[9]!.message).toMatch(/device\.check dut: expected update-available/);
  });

  it("names the run where a scenario's current failure began, and only for scenarios failing now", () => {
    expect(row("broke-on-7").failingSince).toBe(6);
    expect(row("error-now").failingSince).toBe(9);
    for (const name of ["steady", "flaky", "infra-once", "fixed-on-6", "new-on-5", "slower"]) expect(row(name).failingSince, name).toBeNull();
  });

  it("gives each scenario's flaky and failure rates over the nights it ran", () => {
    expect(row("flaky").flakyRate).toBe(0.3);
    expect(row("flaky").failureRate).toBe(0);
    expect(row("fixed-on-6").failureRate).toBe(0.3);
    expect(row("infra-once").failureRate).toBe(0.1);
    expect(row("broke-on-7").failureRate).toBe(0.4);
    expect(row("new-on-5").ran).toBe(6);
    expect(row("steady").flakyRate + row("steady").failureRate).toBe(0);
  });

  it("follows the duration: median over the window and the last run against it", () => {
    expect(row("slower").medianMs).toBe(1000);
    expect(row("slower").lastVsMedian).toBe(2);
    expect(row("steady").lastVsMedian).toBe(0);
  });

  it("lists the scenarios failing now first (longest streak first), then the flaky and once-failed, then the rest", () => {
    expect(history.scenarios.map((s) => s.scenario)).toEqual(["broke-on-7", "error-now", "fixed-on-6", "flaky", "infra-once", "new-on-5", "slower", "steady"]);
  });

  it("links every cell to that night's page of the scenario, and every column to the night's suite page, by relative links", () => {
    for (const s of history.scenarios) {
      s.cells.forEach((c, n) => {
        if (!c) return;
        expect(c.report, `${s.scenario} night ${n}`).toBe(`../${nightName(n)}/${s.scenario}/report.html`);
        expect(existsSync(resolve(out, c.report!))).toBe(true);
      });
    }
    history.runs.forEach((r, n) => expect(r.report).toBe(`../${nightName(n)}/report.html`));
  });

  it("renders the grid in Chromium: a row per scenario, a coloured cell per night, links that open the night's page", async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`file://${join(out, "history.html")}`);
    await page.waitForSelector("body[data-ready]", { timeout: 10_000 });
    const grid = await page.$$eval("#history tbody tr", (rows) =>
      rows.map((r) => {
        const tds = r.querySelectorAll("td.c");
        const cells: string[] = [];
        for (let i = 0; i < tds.length; i++) cells.push(tds.item(i).className.replace("c ", ""));
        return { name: r.querySelector("td.name")?.textContent, cells };
      }),
    );
    expect(grid.map((g) => g.name)).toEqual(history.scenarios.map((s) => s.scenario));
    const cls = { passed: "p", failed: "f", error: "e", flaky: "k" } as const;
    for (const g of grid) expect(g.cells, g.name!).toEqual(row(g.name!).cells.map((c) => (c ? cls[c.status] : "n")));
    expect(await page.$$eval("#history thead th.run", (ths) => ths.length)).toBe(NIGHTS);
    const since = await page.textContent("#history tbody tr:first-child td.failing-since");
    expect(since).toContain("2026-11-07");
    // Only the scenarios that failed or were flaky: steady, new-on-5 and slower go.
    await page.check("#only-problems");
    const shown = await page.$$eval("#history tbody tr:not(.hidden) td.name", (tds) => tds.map((t) => t.textContent));
    expect(shown).toEqual(["broke-on-7", "error-now", "fixed-on-6", "flaky", "infra-once"]);
    // The summary columns sort: flaky, most first (a second click reverses).
    await page.click("#history thead th:nth-child(3)");
    await page.click("#history thead th:nth-child(3)");
    expect(await page.textContent("#history tbody tr:not(.hidden) td.name")).toBe("flaky");
    await page.click("#history thead th:nth-child(1)");
    // A failed cell opens that night's page of the scenario.
    await page.click("#history tbody tr:first-child td.c:nth-last-child(1) a");
    await page.waitForURL(/nightly-2026-11-10\/broke-on-7\/report\.html$/, { timeout: 10_000 });
    expect(await page.textContent("#verdict")).toBe("failed (test failure)");
    expect(errors).toEqual([]);
  });
});

describe("a night's outcome for a scenario", () => {
  const retry = { type: "retry" as const, path: "scenario", attempt: 1, of: 1, reason: "relay r1 did not answer", t: 0 };
  it("is flaky when it passed after a retry (attempts, or the retries of a result without them), error for all but a test failure", () => {
    expect(cellStatus({ status: "passed", retries: [] })).toBe("passed");
    expect(cellStatus({ status: "passed", retries: [], attempts: [{ n: 1, startedAt: "", durationMs: 1, outcome: "failed" }, { n: 2, startedAt: "", durationMs: 1, outcome: "passed" }] })).toBe("flaky");
    expect(cellStatus({ status: "passed", retries: [retry] as never })).toBe("flaky");
    expect(cellStatus({ status: "failed", failureClass: "test", retries: [] })).toBe("failed");
    expect(cellStatus({ status: "failed", failureClass: "infrastructure", retries: [] })).toBe("error");
    expect(cellStatus({ status: "failed", failureClass: "scenario", retries: [] })).toBe("error");
    expect(cellStatus({ status: "interrupted", retries: [] })).toBe("error");
    expect(cellStatus({ status: "running", retries: [] })).toBe("error");
  });
});

describe("rig history on directories that hold no run", () => {
  it("names each, writes nothing and exits 2 when none is left", async () => {
    const none = join(dir, "none");
    mkdirSync(join(none, "a"), { recursive: true });
    const target = join(none, "history");
    const r = await rig(["history", join(none, "a"), join(none, "b"), "--out", target]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toMatch(/skipped .*none\/a: no result\.json here/);
    expect(r.stderr).toMatch(/skipped .*none\/b: no such directory/);
    expect(r.stderr).toMatch(/none of the 2 directories holds a run; nothing written/);
    expect(existsSync(target)).toBe(false);
  });

  it("refuses a call without --out or without a directory (usage, exit 2)", async () => {
    const noOut = await rig(["history", dirname(nights[0]!)]);
    expect(noOut.exitCode).toBe(2);
    expect(noOut.stderr).toMatch(/--out DIR/);
    const noDirs = await rig(["history", "--out", join(dir, "x")]);
    expect(noDirs.exitCode).toBe(2);
    expect(noDirs.stderr).toMatch(/at least one run directory/);
  });
});
