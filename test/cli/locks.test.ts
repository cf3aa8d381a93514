// rig locks: lists who holds which physical thing and which locks are stale.
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { lockFileName } from "../../harness/board/lock/lock-file.ts";
import { processStartTime } from "../../harness/core/process-group.ts";
import { rig, tempDir } from "./helpers.ts";

const dir = tempDir("otarig-locks-cli-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plant(key: string, what: string, pid: number, startTime: number | undefined): void {
  const now = "2026-12-01T09:00:00.000Z";
  const record = { key, what, pid, ...(startTime !== undefined ? { startTime } : {}), host: hostname(), user: "ci", since: now, renewed: now, ttlMs: 60_000, owner: "rig run nightly.yaml" };
  writeFileSync(join(dir, lockFileName(key)), JSON.stringify(record));
}

describe("rig locks", () => {
  it("lists held and stale locks with holder, time and why they are stale", async () => {
    const dead = Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
    plant("port:/dev/ttyUSB0", "console of board dut (rig bench-3)", process.pid, processStartTime(process.pid));
    plant("relay:/dev/ttyUSB1#2", "power of board dut2 (rig bench-3): relay r1 channel 2", dead, 4242);
    const r = await rig(["locks", "--dir", dir]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(`lock dir ${dir}: 2 lock(s)`);
    expect(r.stdout).toMatch(new RegExp(`^held   port:/dev/ttyUSB0  console of board dut \\(rig bench-3\\)\\n       by PID ${process.pid} \\(ci\\) on \\S+ since 2026-12-01T09:00:00.000Z \\(rig run nightly.yaml\\)$`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^STALE  relay:/dev/ttyUSB1#2  power of board dut2 .*\\n       by PID ${dead} .*\\n       stale: PID ${dead} is gone$`, "m"));
  });
});
