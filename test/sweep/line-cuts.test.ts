// Cuts timed by the console, as on a real bench (at the nth matching line, a delay after a
// line), on the virtual board, which also says where each landed in its flash; and stop_on:
// bricked, which ends a sweep at its first bricked point.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readJson, rig, tempDir } from "../cli/helpers.ts";

const dir = tempDir("otarig-line-cuts-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("console-timed cuts and stop_on: bricked (test/sweep/fixtures/line-cuts.yaml)", () => {
  it("records the line, its count or the delay, and the flash offset each cut landed at", async () => {
    const out = join(dir, "run");
    const r = await rig(["test/sweep/fixtures/line-cuts.yaml", "--server", "process", "--out", out], { timeoutMs: 180_000 });
    expect(r.exitCode, r.all).toBe(1); // the unsafe sweep at the end, on purpose
    const [nth, after, unsafe] = readJson(join(out, "result.json")).sweeps;

    expect(nth.name).toBe("nth-install-line");
    expect(nth.points.map((p: { at: { nth: number } }) => p.at.nth)).toEqual([2, 9]);
    for (const p of nth.points) {
      expect(p.outcome, p.detail).toBe("old"); // a torn second slot: the base image boots
      expect(p.at).toMatchObject({ trigger: "line", area: "install", total: 262272 });
      expect(p.at.line).toMatch(/^install progress \d+%/);
      // the line is printed after its page: the cut cannot land before the page it reports
      expect(p.at.offset).toBeGreaterThanOrEqual(Math.floor((Number(/(\d+)%/.exec(p.at.line)![1]) * 262272) / 100 / 16384) * 16384);
    }
    expect(nth.points[1].at.offset).toBeGreaterThan(nth.points[0].at.offset);

    expect(after.points.map((p: { at: { trigger: string } }) => p.at.trigger)).toEqual(["after", "after"]);
    after.points.forEach((p: { at: { after_ms: number; area: string; line: string }; outcome: string }, i: number) => {
      expect(p.at.after_ms).toBeGreaterThanOrEqual([0, 120][i]!);
      expect(p.at.line).toMatch(/^download progress/);
      expect(p.at.area).toBe("download");
      expect(p.outcome).toBe("old");
    });

    expect(unsafe.points).toHaveLength(1); // stop_on: bricked: the other two points never ran
    expect(unsafe.points[0]).toMatchObject({ index: 1, outcome: "bricked", at: { area: "install" } });
    expect(r.all).toMatch(/unsafe-stops: 1 of 1 points broke allow \[old, new\]/);
    // a bricked point with no next point: nothing to restore
    expect(readFileSync(join(out, "run.log"), "utf8")).not.toMatch(/restoring dut/);
  }, 200_000);
});
