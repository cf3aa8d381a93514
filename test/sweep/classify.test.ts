// The outcome of a boot line and the spread of a sweep's points: pure functions, no board.
import { describe, expect, it } from "vitest";
import { judge, type BootRules } from "../../harness/sweep/classify.ts";
import { sweepPoints } from "../../harness/sweep/points.ts";

const BASE = "a".repeat(64);
const TARGET = "b".repeat(64);
const rules: BootRules = {
  booted: /^boot: slot=(?<slot>[AB]) version=(?<version>\S+) sha256=(?<sha256>[0-9a-f]{64})/,
  fatal: /Guru Meditation Error/,
  bootFailed: /^\[boot\] no bootable image/,
  base: BASE,
  target: TARGET,
};

describe("judge: what a line after power-on says", () => {
  it("old, new, or an image that is neither (bricked)", () => {
    expect(judge(`boot: slot=A version=1.0.0 sha256=${BASE} trial=0`, rules)).toEqual({ outcome: "old", detail: "booted the base image version 1.0.0" });
    expect(judge(`boot: slot=B version=1.1.0 sha256=${TARGET} trial=1`, rules)?.outcome).toBe("new");
    expect(judge(`boot: slot=B version=1.1.0 sha256=${"c".repeat(64)} trial=1`, rules)).toMatchObject({ outcome: "bricked", detail: expect.stringMatching(/neither base nor target/) });
  });

  it("a fatal line or the bootloader's nothing-to-boot line is bricked; other lines say nothing yet", () => {
    expect(judge("Guru Meditation Error: Core  0 panic'ed", rules)?.outcome).toBe("bricked");
    expect(judge("[boot] no bootable image", rules)?.outcome).toBe("bricked");
    expect(judge("[boot] checking slot B", rules)).toBeUndefined();
  });

  it("a boot line with no hash group is other", () => {
    expect(judge("boot: version 1.0.0", { ...rules, booted: /^boot: version (?<version>\S+)/ })).toMatchObject({ outcome: "other" });
  });
});

describe("sweepPoints", () => {
  it("a list stays as written; from/to/count spreads evenly, whole numbers when both ends are", () => {
    expect(sweepPoints([5, 1, 3])).toEqual([5, 1, 3]);
    expect(sweepPoints({ from: 0, to: 10, count: 3 })).toEqual([0, 5, 10]);
    expect(sweepPoints({ from: 0, to: 10, count: 4 })).toEqual([0, 3, 7, 10]);
    expect(sweepPoints({ from: 0, to: 1.5, count: 4 })).toEqual([0, 0.5, 1, 1.5]);
    expect(sweepPoints({ from: 7, to: 9, count: 1 })).toEqual([7]);
  });
});
