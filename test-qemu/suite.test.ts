// The nightly QEMU suite: every shipped scenario except fleet-rollout (8 boards) and power-cut-sweep (cuts in the download's writes) on
// rigs/qemu.yaml, unchanged, through the rig CLI; then Ctrl-C in the middle of a boot. After
// each, nothing of the run may still be running (QEMU, its guestfwd socat, the PTY pair's socat).
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { processesMentioning, readJson, rig, ROOT, tempDir } from "../test/cli/helpers.ts";

const dir = tempDir("otarig-qemu-suite-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Shipped scenarios a two-board QEMU rig cannot run: 8 boards; cuts counting download writes (its agent reports only its install's). */
const NOT_ON_QEMU = ["fleet-rollout.yaml", "power-cut-sweep.yaml"];

/** The shipped scenarios a two-board QEMU rig can run. */
export function qemuSuite(): string[] {
  return readdirSync(join(ROOT, "scenarios"))
    .filter((f) => f.endsWith(".yaml") && !NOT_ON_QEMU.includes(f))
    .sort()
    .map((f) => `scenarios/${f}`);
}

describe("the shipped suite on rigs/qemu.yaml", () => {
  it("passes every scenario but the fleet rollout, and leaves nothing running", async () => {
    const out = join(dir, "suite");
    const started = performance.now();
    const r = await rig([...qemuSuite(), "--rig", "rigs/qemu.yaml", "--out", out], { timeoutMs: 3_500_000 });
    process.stdout.write(`qemu suite: ${((performance.now() - started) / 1000).toFixed(0)} s wall\n`);
    expect(r.exitCode, r.all).toBe(0);
    for (const file of qemuSuite()) {
      const name = file.replace(/^scenarios\/|\.yaml$/g, "");
      expect(readJson(join(out, name, "result.json")).status, name).toBe("passed");
    }
    expect(await processesMentioning(out)).toEqual([]);
  });

  it("Ctrl-C during a boot stops the run (exit 130) and leaves no QEMU behind", async () => {
    const out = join(dir, "interrupted");
    const run = rig(["scenarios/ota-happy-path.yaml", "--rig", "rigs/qemu.yaml", "--server", "process", "--out", out], { timeoutMs: 180_000 });
    // wait until QEMU is up (its disk is under the run dir), then interrupt
    for (let i = 0; i < 600 && !(await processesMentioning(join(out, "virtual"))).some((p) => p.includes("qemu-system")); i++) await sleep(100);
    expect((await processesMentioning(join(out, "virtual"))).some((p) => p.includes("qemu-system"))).toBe(true);
    run.kill("SIGINT");
    const r = await run;
    expect(r.exitCode, r.all).toBe(130);
    expect(await processesMentioning(out)).toEqual([]);
    expect(r.all).toMatch(/interrupted/);
  });
});
