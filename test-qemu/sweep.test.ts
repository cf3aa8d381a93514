// A power-cut sweep on a QEMU board (`npm run test:qemu`): 8 cuts across the install, each at
// the nth "install progress" line of the guest's OTA agent (it does not report its flash
// writes, so the cuts are timed by its console, as on a real bench). A torn second slot must
// always fall back to the base image.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processesMentioning, readJson, rig, tempDir } from "../test/cli/helpers.ts";

const dir = tempDir("otarig-qemu-sweep-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a power-cut sweep on rigs/qemu.yaml", () => {
  it("cuts at 8 points across the install; every point boots the base image again", async () => {
    const out = join(dir, "sweep");
    const r = await rig(["test-qemu/fixtures/qemu-install-sweep.yaml", "--server", "process", "--out", out], { timeoutMs: 1_500_000 });
    expect(r.exitCode, r.all).toBe(0);
    const [sweep] = readJson(join(out, "result.json")).sweeps;
    expect(sweep.name).toBe("qemu-install");
    expect(sweep.points).toHaveLength(8);
    sweep.points.forEach((p: { index: number; at: { trigger: string; nth: number; line: string }; outcome: string; detail: string }, i: number) => {
      expect(p.at).toMatchObject({ trigger: "line", nth: i + 1 });
      expect(p.at.line).toMatch(/^install progress \d+%/);
      expect(p.outcome, `point ${p.index}: ${p.detail}`).toBe("old");
    });
    expect(await processesMentioning(out)).toEqual([]);
  });
});
