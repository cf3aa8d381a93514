// A power-cut sweep on a QEMU board (`npm run test:qemu`): 8 cuts across the install, each
// after the page holding a byte offset, as the guest's OTA agent reports its page writes on its
// console. A torn second slot must always fall back to the base image.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processesMentioning, readJson, rig, tempDir } from "../test/cli/helpers.ts";

const dir = tempDir("otarig-qemu-sweep-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a power-cut sweep on rigs/qemu.yaml", () => {
  it("cuts after 8 pages across the install; every point boots the base image again", async () => {
    const out = join(dir, "sweep");
    const r = await rig(["test-qemu/fixtures/qemu-install-sweep.yaml", "--server", "process", "--out", out], { timeoutMs: 1_500_000 });
    expect(r.exitCode, r.all).toBe(0);
    const [sweep] = readJson(join(out, "result.json")).sweeps;
    expect(sweep.name).toBe("qemu-install");
    expect(sweep.points).toHaveLength(8);
    const PAGE = 16 * 1024;
    const points = Array.from({ length: 8 }, (_, i) => Math.round((i * 229376) / 7));
    sweep.points.forEach((p: { index: number; at: { trigger: string; area: string; offset: number }; outcome: string; detail: string }, i: number) => {
      expect(p.at).toMatchObject({ trigger: "write", area: "install", total: 262272 });
      // at least the page holding the point; the agent is not held, so maybe a page or two more
      expect(p.at.offset, `point ${p.index}`).toBeGreaterThanOrEqual((Math.floor(points[i]! / PAGE) + 1) * PAGE);
      expect(p.at.offset, `point ${p.index}`).toBeLessThan(262272);
      expect(p.outcome, `point ${p.index}: ${p.detail}`).toBe("old");
    });
    expect(await processesMentioning(out)).toEqual([]);
  });
});
