// Power-cut sweeps end to end on the virtual rig (issue 20): the shipped safe sweep (every
// point old or new, both seen) and the shipped unsafe one (a bricked span with survivors on
// either side, exit 1), their maps in result.json, JUnit and the report page, driven in Chromium.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processesMentioning, readJson, rig, tempDir } from "../cli/helpers.ts";
import { launchChromium } from "../report/helpers/chromium.ts";

const IMAGE = 262272; // fixtures/firmware/app-1.1.0.bin: written once to the download area, once to a slot
const PAGE = 16 * 1024; // the virtual board's page (flash_chunk_size, download_chunk_size)

interface Point {
  index: number;
  at: { trigger: string; area?: string; offset?: number; total?: number; percent?: number; written?: number };
  outcome: string;
  detail: string;
}

const dir = tempDir("otarig-sweeps-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Where a write cut at stream offset `point` must land: right after the page that holds it. */
function expectedLanding(point: number): { area: string; offset: number; written: number } {
  const area = point < IMAGE ? "download" : "install";
  const within = area === "download" ? point : point - IMAGE;
  const offset = Math.min(IMAGE, (Math.floor(within / PAGE) + 1) * PAGE);
  return { area, offset, written: (area === "install" ? IMAGE : 0) + offset };
}

function pointsOf(runDir: string): { name: string; points: Point[] } {
  const result = readJson(join(runDir, "result.json"));
  expect(result.sweeps).toHaveLength(1);
  for (const p of result.sweeps[0].points) expect(Object.keys(p).sort()).toEqual(["at", "detail", "index", "outcome"]);
  return result.sweeps[0];
}

function spread(count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.round((i * (2 * IMAGE - 1)) / (count - 1)));
}

describe("scenarios/power-cut-sweep.yaml on rigs/virtual.yaml", () => {
  it("cuts at 24 points over download and install; every point boots old or new, both occur, each landed after its page", async () => {
    const out = join(dir, "safe");
    const r = await rig(["scenarios/power-cut-sweep.yaml", "--server", "process", "--out", out], { timeoutMs: 240_000 });
    expect(r.exitCode, r.all).toBe(0);
    const sweep = pointsOf(out);
    expect(sweep.name).toBe("download-and-install");
    expect(sweep.points.map((p) => p.index)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const points = spread(24);
    sweep.points.forEach((p, i) => {
      const want = expectedLanding(points[i]!);
      expect(p.at, `point ${p.index}`).toMatchObject({ trigger: "write", area: want.area, offset: want.offset, total: IMAGE, written: want.written });
      // Safe firmware: a torn download or slot falls back to the base image; only a whole slot boots the target.
      expect(p.outcome, `point ${p.index}: ${p.detail}`).toBe(want.area === "install" && want.offset === IMAGE ? "new" : "old");
    });
    expect(new Set(sweep.points.map((p) => p.outcome))).toEqual(new Set(["old", "new"]));
    // A download stopped by its point's cut reports no progress after that point ended.
    const events = readFileSync(join(out, "events.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const ended = new Map(events.filter((e) => e.type === "sweep.point").map((e) => [String(e.index), e.t as number]));
    const late = events.filter((e) => e.type === "progress" && /^9\.\d+\./.test(e.path) && e.t > ended.get(e.path.split(".")[1])!);
    expect(late.map((e) => `${e.path} at ${e.t}: ${e.message}`)).toEqual([]);
    expect(await processesMentioning(out)).toEqual([]);
  }, 260_000);
});

describe("scenarios/failing/unsafe-install-sweep.yaml", () => {
  const out = join(dir, "unsafe");
  let browser: Browser;
  let runOutput = "";

  beforeAll(async () => {
    const [r, b] = await Promise.all([rig(["scenarios/failing/unsafe-install-sweep.yaml", "--server", "process", "--out", out], { timeoutMs: 180_000 }), launchChromium()]);
    browser = b;
    runOutput = r.all ?? "";
    expect(r.exitCode, runOutput).toBe(1);
  }, 200_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("maps the bricked span of the install with the survivors on either side, and fails naming each bricked point", () => {
    const sweep = pointsOf(out);
    const outcomes = sweep.points.map((p) => p.outcome);
    // 12 points: six in the download (old), five inside the in-place install (bricked), the last after its last page (new)
    expect(outcomes).toEqual(["old", "old", "old", "old", "old", "old", "bricked", "bricked", "bricked", "bricked", "bricked", "new"]);
    const points = spread(12);
    sweep.points.forEach((p, i) => expect(p.at, `point ${p.index}`).toMatchObject({ trigger: "write", ...expectedLanding(points[i]!) }));
    for (const p of sweep.points.filter((p) => p.outcome === "bricked")) expect(p.detail).toMatch(/no bootable image/);
    expect(runOutput).toMatch(/unsafe-install: 5 of 12 points broke allow \[old, new\]: point 7 \(install byte 32768 of 262272/);
    // a bricked board was restored through the rig's flasher before each next point
    expect(readFileSync(join(out, "run.log"), "utf8").match(/restoring dut with app-1\.0\.0\.bin through the rig's flasher/g)).toHaveLength(5);
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    for (const n of [7, 8, 9, 10, 11]) expect(junit).toContain(`bricked: sweep unsafe-install point ${n} (install byte`);
    expect(junit).not.toContain("point 6 (download");
  });

  async function open(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`file://${join(out, "report.html")}`);
    await page.waitForSelector("body[data-ready]", { timeout: 10_000 });
    expect(errors).toEqual([]);
    return page;
  }

  it("draws the brick map in the report: a cell per point in landing order, coloured by outcome", async () => {
    const page = await open();
    const cells = await page.$$eval(".brick-map .cell", (cs) => cs.map((c) => ({ outcome: c.getAttribute("data-outcome"), left: parseFloat(/left:\s*([\d.]+)%/.exec(c.getAttribute("style") ?? "")?.[1] ?? "NaN") })));
    expect(cells.map((c) => c.outcome)).toEqual(["old", "old", "old", "old", "old", "old", "bricked", "bricked", "bricked", "bricked", "bricked", "new"]);
    for (let i = 1; i < cells.length; i++) expect(cells[i]!.left).toBeGreaterThan(cells[i - 1]!.left);
    expect(await page.$$eval(".brick-map .area", (as) => as.map((a) => a.textContent))).toEqual(["download", "install"]);
    // the page's own window computes the colours (the test's tsconfig has no DOM types)
    const colour = (outcome: string) =>
      page.evaluate((o) => {
        const w = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { querySelector(s: string): unknown } };
        return w.getComputedStyle(w.document.querySelector(`.brick-map .cell[data-outcome="${o}"]`)).backgroundColor;
      }, outcome);
    expect(new Set([await colour("old"), await colour("bricked"), await colour("new")]).size).toBe(3);
    await page.close();
  });

  it("a click on a bricked cell shows that point's console: its install, the cut and the boot that found nothing", async () => {
    const page = await open();
    await page.click('.brick-map .cell[data-index="8"]');
    expect(await page.textContent("#selection-text")).toContain("sweep point 8: bricked");
    const rows = await page.$$eval("#console-view .row", (rs) => rs.map((r) => r.textContent ?? ""));
    const text = rows.join("\n");
    expect(text).toMatch(/install progress/);
    expect(text).toMatch(/\[boot\] no bootable image/);
    // only that point: not the next point's fresh boot of the base image after the restore
    expect(rows.filter((r) => /ota> check$/.test(r))).toHaveLength(1);
    await page.close();
  });
});
