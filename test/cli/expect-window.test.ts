// The default `expect` window (DESIGN §8): per board, after what earlier expects and device steps
// consumed, never before the start of the last step that acted on the board. Real runs of the
// CLI on rigs/virtual.yaml (the virtual board answers a command within a millisecond).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, readJson, rig, tempDir } from "./helpers.ts";

async function run(fixture: string): Promise<{ exitCode: number | undefined; all: string; result: any; out: string }> {
  const out = tempDir();
  const r = await rig([join(FIXTURES, fixture), "--out", out]);
  return { exitCode: r.exitCode, all: r.all ?? "", result: readJson(join(out, "result.json")), out };
}

describe("the default expect window", () => {
  it("sees a reply printed during a wait after the send, and a consumed line never matches again", async () => {
    const r = await run("reply-during-wait.yaml");
    expect(r.exitCode, r.all).toBe(0);
    expect(r.result.steps.map((s: { status: string }) => s.status)).toEqual(Array(7).fill("passed"));
  });

  it("sees every one of 200 replies the board printed within a millisecond of the send", async () => {
    const r = await run("fast-replies.yaml");
    expect(r.exitCode, r.all).toBe(0);
  });

  it("sees a banner printed during a power step or a wait, never one from before the last power step", async () => {
    const r = await run("stale-banner.yaml");
    expect(r.exitCode, r.all).toBe(0);
  });
});
