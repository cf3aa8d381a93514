// report.html as a person uses it: real pages in real Chromium. One real run on the virtual
// rig (a board downloads 1.1.0 but never installs it, so assert.hash fails) and one made-up
// run with a 100,000-line console log.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticRun } from "../../bench/lib/synthetic-run.ts";
import { ROOT, rig } from "../cli/helpers.ts";
import { launchChromium } from "./helpers/chromium.ts";

const sha = (file: string) => createHash("sha256").update(readFileSync(join(ROOT, file))).digest("hex");
const FIXTURE = join(ROOT, "test/report/fixtures/download-wrong-hash.yaml");

let tmp: string;
let runDir: string;
let runOutput: string;
let browser: Browser;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "otarig-report-page-"));
  runDir = join(tmp, "run");
  // A private cache dir: board locks of other runs on this machine are not ours to wait for.
  const [r, b] = await Promise.all([rig([FIXTURE, "--out", runDir], { env: { XDG_CACHE_HOME: join(tmp, "cache") } }), launchChromium()]);
  browser = b;
  runOutput = r.all ?? "";
  expect(r.exitCode, runOutput).toBe(1);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function open(file: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`file://${file}`);
  await page.waitForSelector("body[data-ready]", { timeout: 10_000 }).catch((err: Error) => {
    throw new Error(`report page ${file} never finished drawing (10s): ${errors.join("; ") || err.message}`);
  });
  expect(errors).toEqual([]);
  return page;
}

/** The text of the console rows the pane has drawn. */
const consoleRows = (page: Page) => page.$$eval("#console-view .row", (rows) => rows.map((r) => r.textContent ?? ""));

describe("report page of a failed assert.hash run", () => {
  it("shows the verdict, the failing step and both hashes with the image each is", async () => {
    const page = await open(join(runDir, "report.html"));
    expect(await page.textContent("#verdict")).toBe("failed (test failure)");
    expect(await page.textContent(".failure .where")).toContain("assert.hash dut = app-1.1.0.bin");
    const actual = (await page.textContent("#hash-failure tr:nth-child(1)")) ?? "";
    const expected = (await page.textContent("#hash-failure tr:nth-child(2)")) ?? "";
    expect(actual).toContain(sha("fixtures/firmware/app-1.0.0.bin"));
    expect(actual).toContain("version 1.0.0");
    expect(expected).toContain(sha("fixtures/firmware/app-1.1.0.bin"));
    expect(expected).toContain("app-1.1.0.bin");
    // The lines around the failure: the status answer the board gave.
    expect(await page.textContent("#failure-lines")).toMatch(/version=1\.0\.0/);
    // Boards and the server are named.
    expect(await page.textContent("table.boards")).toContain("VB-0001");
    expect(await page.textContent("table.facts")).toMatch(/process at http:\/\/127\.0\.0\.1:\d+/);
    await page.close();
  });

  it("clicking a step shows the console lines of that moment, and only those", async () => {
    const page = await open(join(runDir, "report.html"));
    const all = await page.textContent("#console-count");
    await page.click('#timeline .bar[data-step="3"]'); // expect boot: slot=… version=1.0.0
    expect(await page.textContent("#selection-text")).toContain("step 3 expect dut");
    const rows = await consoleRows(page);
    expect(rows.some((r) => /boot: slot=A version=1\.0\.0 sha256=/.test(r))).toBe(true);
    expect(rows.some((r) => /download progress/.test(r))).toBe(false);
    expect(await page.textContent("#console-count")).not.toBe(all);
    // The download step's moment holds the progress lines instead.
    await page.click('#timeline .bar[data-step="10"]');
    const later = await consoleRows(page);
    expect(later.some((r) => /download progress \d+%/.test(r))).toBe(true);
    expect(later.some((r) => /boot: slot=A/.test(r))).toBe(false);
    // Zoomed to that moment the timeline shows just it: the flash step is out of view.
    await page.click("#zoom-in");
    expect(await page.locator('#timeline .bar[data-step="1"]').count()).toBe(0);
    expect(await page.locator('#timeline .bar[data-step="10"]').count()).toBe(1);
    await page.click("#zoom-out");
    expect(await page.locator('#timeline .bar[data-step="1"]').count()).toBe(1);
    await page.click("#clear-selection");
    expect(await page.textContent("#console-count")).toBe(all);
    // "Jump to step" keeps the whole log and scrolls to the step's lines, marked.
    await page.selectOption("#jump-step", "10");
    expect(await page.textContent("#console-count")).toBe(all);
    const marked = await page.$$eval("#console-view .row.mark", (rows) => rows.map((r) => r.textContent ?? ""));
    expect(marked.some((r) => /download progress \d+%/.test(r))).toBe(true);
    expect(marked.some((r) => /boot: slot=A/.test(r))).toBe(false);
    await page.close();
  });

  it("the server lane shows the download's requests, with the device, and selects them on click", async () => {
    const page = await open(join(runDir, "report.html"));
    const target = sha("fixtures/firmware/app-1.1.0.bin");
    const download = page.locator(`#server-lane .req[data-path="/v1/download/${target}"]`);
    expect(await download.count()).toBeGreaterThanOrEqual(1);
    expect(await download.first().getAttribute("title")).toMatch(new RegExp(`GET /v1/download/${target} → 20[06]\\s+device VB-0001`));
    expect(await page.locator('#server-lane .req[data-path^="/v1/check/"]').count()).toBe(1);
    await download.first().click();
    const rows = await page.$$eval("#requests tbody tr", (trs) => trs.map((t) => t.textContent ?? ""));
    expect(rows.some((r) => r.includes(`/v1/download/${target}`))).toBe(true);
    expect(rows.some((r) => r.includes("/ota/artifact"))).toBe(false);
    // The download's progress is a curve on the board's progress lane, ending at every byte.
    const curve = page.locator('#timeline [data-progress="dut"] polyline[data-step="10"]');
    expect(await curve.getAttribute("data-tip")).toMatch(/^10 device\.download dut: 100% \(262272 bytes\)/);
    expect((await curve.getAttribute("points"))!.split(" ").length).toBeGreaterThan(3);
    await page.close();
  });

  it("rig report rebuilds the same page from the run directory's files", async () => {
    const page = join(runDir, "report.html");
    const before = readFileSync(page, "utf8");
    unlinkSync(page);
    const r = await rig(["report", runDir]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout.trim()).toBe(page);
    expect(readFileSync(page, "utf8")).toBe(before);
    const bad = await rig(["report", join(tmp, "nowhere")]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("no such directory");
  });
});

describe("report page of a power cut during a download", () => {
  it("marks the fault on the timeline, and clicking it shows what the board printed then", async () => {
    const dir = join(tmp, "power-cut");
    const r = await rig(["scenarios/power-cut-during-download.yaml", "--server", "process", "--out", dir], { env: { XDG_CACHE_HOME: join(tmp, "cache") } });
    expect(r.exitCode, r.all).toBe(0);
    const page = await open(join(dir, "report.html"));
    const fault = page.locator("#timeline .marker.fault").last();
    expect(await fault.getAttribute("title")).toMatch(/power cut on dut at "download progress \d+% \(\d+\/262272\)"/);
    expect(await page.locator("#timeline .marker.power").count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator("#timeline .marker.flash").count()).toBeGreaterThanOrEqual(1);
    const cutAt = /at "(download progress [^"]+)"/.exec((await fault.getAttribute("title")) ?? "")![1]!;
    await fault.click();
    // The line the cut was triggered by is among the console lines of that moment.
    const rows = await consoleRows(page);
    expect(rows.some((row) => row.endsWith(cutAt))).toBe(true);
    await page.close();
  }, 60_000);
});

describe("suite page", () => {
  it("sorts by a column when its header is clicked, and back the other way on a second click", async () => {
    const { renderSuitePage } = await import("../../harness/report/html/suite-page.ts");
    const base = JSON.parse(readFileSync(join(runDir, "result.json"), "utf8"));
    const results = [
      { ...base, scenario: "b-medium", durationMs: 2000, status: "passed", runDir: join(tmp, "b") },
      { ...base, scenario: "a-slow", durationMs: 9000, runDir: join(tmp, "a") },
      { ...base, scenario: "c-fast", durationMs: 100, status: "passed", runDir: join(tmp, "c") },
    ];
    const file = join(tmp, "suite.html");
    writeFileSync(file, renderSuitePage(results, tmp));
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    const names = () => page.$$eval("#suite tbody tr td:first-child", (tds) => tds.map((t) => t.textContent));
    expect(await names()).toEqual(["b-medium", "a-slow", "c-fast"]);
    await page.click("#suite th:nth-child(4)"); // duration
    expect(await names()).toEqual(["c-fast", "b-medium", "a-slow"]);
    await page.click("#suite th:nth-child(4)");
    expect(await names()).toEqual(["a-slow", "b-medium", "c-fast"]);
    await page.click("#suite th:nth-child(1)");
    expect(await names()).toEqual(["a-slow", "b-medium", "c-fast"]);
    expect(await page.textContent("#totals")).toContain("2 passed");
    await page.close();
  });
});

describe("report page of a 100,000-line console log", () => {
  it("renders, draws only the rows in view, scrolls to the end and searches", async () => {
    const dir = join(tmp, "big");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir);
    const run = writeSyntheticRun(dir, 100_000);
    const r = await rig(["report", dir]);
    expect(r.exitCode, r.all).toBe(0);
    const page = await open(join(dir, "report.html"));
    expect(await page.textContent("#console-count")).toBe("100000 lines");
    const drawn = await page.locator("#console-view .row").count();
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(200);
    await page.$eval("#console-view", (v) => (v.scrollTop = v.scrollHeight));
    await page.waitForFunction(`[...document.querySelectorAll("#console-view .row")].some((r) => r.textContent.includes("line 99999 "))`, null, { timeout: 5000 });
    expect(await page.locator("#console-view .row").count()).toBeLessThan(200);
    // ANSI colours are rendered as classes, not printed as escapes.
    await page.fill("#console-search", "boot: line 50050 ok");
    await page.waitForFunction(`document.getElementById("console-count").textContent === "1 of 100000 lines"`, null, { timeout: 5000 });
    const hit = page.locator("#console-view .row .a32");
    expect(await hit.textContent()).toBe(`I (50050) boot: line 50050 ok`);
    expect(run.lineText(50_050)).toContain("\x1b[32m");
    // A failed request (the made-up 503) stands out on the server lane.
    expect(await page.locator("#server-lane .req.err").count()).toBe(1);
    expect(await page.locator("#server-lane .req.err").getAttribute("data-status")).toBe("503");
    // The capture gap is marked on the board's lane.
    expect(await page.locator('#timeline .track[data-board="dut"] .gapmark').count()).toBe(1);
    await page.close();
  });
});
