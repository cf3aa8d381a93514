// fleet.wait and assert.fleet's verdicts: bounds as a scenario writes them, and the line that
// names where the fleet stands when one does not hold.
import { describe, expect, it } from "vitest";
import { standing, unmet } from "../../harness/fleet/bounds.ts";
import { FleetMetrics, emptyStates } from "../../harness/fleet/metrics.ts";
import { parseBytes, parseCondition, parseRate } from "../../harness/fleet/units.ts";

function summary() {
  const m = new FleetMetrics();
  for (let i = 0; i < 200; i++) m.answered("check", i < 198 ? 200 : 502, i < 190 ? 10 : 400, 50);
  m.failed("status", "ECONNRESET (status)");
  return m.summary(2000, { ...emptyStates(), updated: 1950, downloading: 40, reverted: 6, rejected: 4 });
}

describe("fleet bounds", () => {
  it("reads percentages of the fleet, comparisons and plain numbers", () => {
    expect(parseCondition(">= 99%")).toEqual({ op: ">=", value: 99, percent: true, text: ">= 99%" });
    expect(parseCondition(0)).toMatchObject({ op: "==", value: 0 });
    expect(parseCondition("< 250")).toMatchObject({ op: "<", value: 250, percent: false });
    for (const bad of ["about most", ">= 101%", "=> 5", ""]) expect(parseCondition(bad)).toBeUndefined();
    expect(parseBytes("64KiB")).toBe(65536);
    expect(parseRate("512KiB/s")).toBe(524288);
    expect(parseRate("0")).toBe(0);
  });

  it("names each unmet bound with the figure, and the devices by state, errors and p99", () => {
    const s = summary();
    expect(unmet(s, { updated: ">= 97%" })).toEqual([]);
    const off = unmet(s, { updated: ">= 99%", http_5xx: 0, check_p99_ms: "< 100", rejected: "<= 4" });
    expect(off).toEqual(["updated 1950 (97.5%), expected >= 99%", "http_5xx 2, expected == 0", `check_p99_ms ${s.check_p99_ms} ms, expected < 100`]);
    expect(standing(s)).toBe(
      `2000 devices: downloading 40, updated 1950, reverted 6, rejected 4; http 5xx 2 (errors by status 502: 2, network: 1); check p99 ${s.check_p99_ms} ms`,
    );
    expect(s.check_p99_ms).toBeGreaterThan(390);
    expect(s.network_errors).toEqual({ "ECONNRESET (status)": 1 });
  });
});
