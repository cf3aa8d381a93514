// The fleet lane of a run's page, in real Chromium: the fleet's devices by state as stacked
// bands over time, its requests a second and check p99; the requests table keeps the boards'
// requests and leaves the fleet's thousands to the lane.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetMetrics, emptyStates } from "../../harness/fleet/metrics.ts";
import { writeRunPage } from "../../harness/report/html.ts";
import type { RunResult } from "../../harness/report/result.ts";
import { launchChromium } from "./helpers/chromium.ts";

let tmp: string;
let browser: Browser;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "otarig-fleet-lane-"));
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A fleet of 100 that goes idle -> downloading -> updated over 10 s, 2 reverting. */
function fleetSummary() {
  const m = new FleetMetrics();
  for (let s = 0; s <= 10; s++) {
    for (let i = 0; i < 20; i++) m.answered("check", 200, 5 + s, 60);
    const states = emptyStates();
    states.updated = Math.min(98, s * 10);
    states.downloading = s < 10 ? Math.min(100 - states.updated, 30) : 0;
    states.reverted = s === 10 ? 2 : 0;
    states.idle = 100 - states.updated - states.downloading - states.reverted;
    m.sample(1000 + s * 1000, states);
  }
  const final = m.series.at(-1)!.states;
  return m.summary(100, final);
}

describe("fleet lane", () => {
  it("stacks the fleet's states, draws req/s and p99, and keeps only the boards' requests in the table", async () => {
    const runDir = join(tmp, "run");
    const request = (t: number, device: string) => ({
      type: "server.log",
      t,
      line: JSON.stringify({ msg: "request", method: "POST", path: `/v1/check/${"0".repeat(64)}`, status: 200, ms: 3, device_id: device }),
    });
    const events = [request(2000, "VB-0001"), ...Array.from({ length: 50 }, (_, i) => request(2000 + i * 100, `SIM-${String(i).padStart(5, "0")}`))];
    const { mkdirSync } = await import("node:fs");
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "events.jsonl"), events.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const result: RunResult = {
      scenario: "fleet-lane",
      file: "x.yaml",
      runDir,
      boards: ["dut"],
      status: "passed",
      exitCode: 0,
      startedAt: new Date().toISOString(),
      durationMs: 12_000,
      steps: [],
      retries: [],
      consoleTail: {},
      boardInfo: [{ name: "dut", serial: "VB-0001", port: "virtual", profile: "virtual-board.yaml" }],
      fleet: fleetSummary(),
    };
    const file = writeRunPage(result, runDir);
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`file://${file}`);
    await page.waitForSelector("#fleet-lane polygon", { timeout: 10_000 });
    expect(errors).toEqual([]);
    const bands = await page.$$eval("#fleet-lane polygon", (ps) => ps.map((p) => p.getAttribute("data-state")));
    expect(bands).toEqual(["idle", "downloading", "updated", "reverted"]);
    expect(await page.getAttribute('#fleet-lane polygon[data-state="updated"]', "data-tip")).toContain("updated: 98 of 100");
    expect(await page.$$eval("#fleet-rate-lane polyline", (ls) => ls.map((l) => l.getAttribute("class")))).toEqual(["rps", "p99"]);
    const devices = await page.$$eval("#requests tbody tr td:nth-child(5)", (tds) => tds.map((td) => td.textContent));
    expect(devices).toEqual(["VB-0001"]);
  }, 60_000);
});
