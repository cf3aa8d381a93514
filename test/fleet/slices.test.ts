// A fleet split over runners: slices i/n cover every serial exactly once, a device misbehaves
// the same way whichever runner simulates it, and `rig merge` adds the slices' figures up.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FleetMetrics, emptyStates } from "../../harness/fleet/metrics.ts";
import { behavioursOf, fleetSpec, sliceSerials } from "../../harness/fleet/spec.ts";
import { mergeShards } from "../../harness/lab/merge.ts";
import type { RunResult } from "../../harness/report/result.ts";

const tmp = mkdtempSync(join(tmpdir(), "otarig-fleet-slices-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("fleet slices", () => {
  it("cover every serial of the fleet exactly once, in order", () => {
    for (const [count, n] of [[100_000, 10], [7, 3], [5, 5], [2000, 7]] as const) {
      const all = Array.from({ length: n }, (_, i) => sliceSerials(fleetSpec({ count, slice: { index: i + 1, total: n } }))).flat();
      expect(all).toEqual(sliceSerials(fleetSpec({ count })));
      expect(new Set(all).size).toBe(count);
    }
    expect(sliceSerials(fleetSpec({ count: 100_000, slice: { index: 10, total: 10 } })).at(-1)).toBe("SIM-100000");
  });

  it("give each device its behaviours by serial, at about the fractions asked", () => {
    const spec = fleetSpec({ count: 5000, behaviours: { drop: 0.1, never_confirm: 0.01, offline: 0, wrong_cik: 0.5 } });
    const serials = sliceSerials(spec);
    const count = (b: string) => serials.filter((sn) => behavioursOf(spec, sn).has(b as never)).length;
    expect(count("drop") / 5000).toBeCloseTo(0.1, 1);
    expect(count("wrong_cik") / 5000).toBeCloseTo(0.5, 1);
    expect(count("never_confirm")).toBeGreaterThan(20);
    expect(count("offline")).toBe(0);
    expect(behavioursOf(spec, "SIM-00042")).toEqual(behavioursOf({ ...spec }, "SIM-00042"));
  });

  it("rig merge adds the slices' fleets up: counts summed, the highest p99", () => {
    const dirs = [1, 2].map((i) => {
      const m = new FleetMetrics();
      for (let k = 0; k < 100; k++) m.answered("check", k < 99 ? 200 : 503, i * 10 + (k % 10), 100);
      const states = { ...emptyStates(), updated: 48 + i, failed: 2 - i };
      const { series: _s, ...summary } = m.summary(50, states, `${i}/2`);
      const dir = join(tmp, `runner-${i}`);
      mkdirSync(dir, { recursive: true });
      const result: RunResult = {
        scenario: "fleet-100k",
        file: "fleet.yaml",
        runDir: dir,
        boards: [],
        status: "passed",
        exitCode: 0,
        startedAt: new Date().toISOString(),
        durationMs: 1000,
        steps: [],
        retries: [],
        consoleTail: {},
        fleet: { ...summary, series: [] },
      };
      writeFileSync(join(dir, "result.json"), JSON.stringify(result));
      return dir;
    });
    const out = join(tmp, "merged");
    mergeShards(out, dirs);
    const merged = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    expect(merged.fleet).toMatchObject({ slices: ["1/2", "2/2"], devices: 100, updated: 99, failed: 1, http_5xx: 2, requests: 200 });
    expect(merged.fleet.check_p99_ms).toBe(Math.max(...merged.results.map((r: RunResult) => r.fleet!.check_p99_ms)));
    expect(merged.fleet.errors).toEqual({ "503": 2 });
  });
});
