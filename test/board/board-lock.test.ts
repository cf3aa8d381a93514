import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { BoardLock } from "../../harness/board/lock/board-lock.ts";
import { InfraError } from "../../harness/core/errors.ts";
import { tempDir } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** A PID that certainly belongs to no process: one that just exited. */
function deadPid(): number {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

describe("BoardLock", () => {
  it("writes who holds it and removes only its own lock", async () => {
    const lock = new BoardLock({ board: "bench-3.dut", dir: tmp.dir, owner: "rig run x.yaml" });
    await lock.acquire({ timeoutMs: 1000 });
    const info = JSON.parse(readFileSync(lock.file, "utf8"));
    expect(info).toMatchObject({ pid: process.pid, host: hostname(), owner: "rig run x.yaml" });
    expect(Number.isNaN(Date.parse(info.started))).toBe(false);
    // Someone else's lock in its place (e.g. after a takeover) must survive our release.
    writeFileSync(lock.file, JSON.stringify({ pid: 1, host: "other-host", started: "2020-01-01T00:00:00Z", owner: "" }));
    await lock.release();
    expect(existsSync(lock.file)).toBe(true);
  });

  it("makes a second acquirer wait, then proceed when the first releases", async () => {
    const first = new BoardLock({ board: "dut", dir: tmp.dir });
    const second = new BoardLock({ board: "dut", dir: tmp.dir });
    await first.acquire({ timeoutMs: 1000 });
    const waits: string[] = [];
    let acquired = false;
    const waiting = second.acquire({ timeoutMs: 10_000, pollMs: 20, onWait: (h) => waits.push(h) }).then(() => {
      acquired = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(acquired).toBe(false);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toContain(`PID ${process.pid} on ${hostname()}`);
    await first.release();
    await waiting;
    expect(second.isHeld).toBe(true);
    await second.release();
    expect(existsSync(second.file)).toBe(false);
  });

  it("gives up after the timeout naming the holder", async () => {
    mkdirSync(tmp.dir, { recursive: true });
    const holder = { pid: process.ppid, host: hostname(), started: "2024-05-01T10:00:00.000Z", owner: "nightly job" };
    writeFileSync(join(tmp.dir, "dut.lock"), JSON.stringify(holder));
    const err = await new BoardLock({ board: "dut", dir: tmp.dir }).acquire({ timeoutMs: 200, pollMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain(`PID ${process.ppid} on ${hostname()} since 2024-05-01T10:00:00.000Z (nightly job)`);
  });

  it("takes over a lock left by a dead process, with a warning", async () => {
    const pid = deadPid();
    writeFileSync(join(tmp.dir, "dut.lock"), JSON.stringify({ pid, host: hostname(), started: "2024-05-01T10:00:00.000Z", owner: "killed run" }));
    const warnings: string[] = [];
    const lock = new BoardLock({ board: "dut", dir: tmp.dir });
    await lock.acquire({ timeoutMs: 1000, onTakeover: (h) => warnings.push(h) });
    expect(warnings).toEqual([`PID ${pid} on ${hostname()} since 2024-05-01T10:00:00.000Z (killed run)`]);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  it("never judges a holder on another host dead", async () => {
    writeFileSync(join(tmp.dir, "dut.lock"), JSON.stringify({ pid: deadPid(), host: "some-other-runner", started: "x", owner: "" }));
    await expect(new BoardLock({ board: "dut", dir: tmp.dir }).acquire({ timeoutMs: 150, pollMs: 20 })).rejects.toThrow(/some-other-runner/);
  });

  it("takes over the lock of a run that was killed (SIGKILL)", async () => {
    const lockModule = resolve(import.meta.dirname, "../../harness/board/lock/board-lock.ts");
    const code = `
      import { BoardLock } from ${JSON.stringify(lockModule)};
      await new BoardLock({ board: "dut", dir: ${JSON.stringify(tmp.dir)}, owner: "child run" }).acquire({ timeoutMs: 5000 });
      console.log("locked");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolveLocked, reject) => {
        const timer = setTimeout(() => reject(new Error("child did not take the lock within 20s")), 20_000);
        child.stdout.on("data", (d: Buffer) => {
          if (d.toString().includes("locked")) {
            clearTimeout(timer);
            resolveLocked();
          }
        });
        child.once("exit", () => reject(new Error("child exited early")));
      });
      const lock = new BoardLock({ board: "dut", dir: tmp.dir });
      // While it lives, we wait and time out naming it.
      await expect(lock.acquire({ timeoutMs: 200, pollMs: 20 })).rejects.toThrow(`PID ${child.pid}`);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      const warnings: string[] = [];
      await lock.acquire({ timeoutMs: 2000, onTakeover: (h) => warnings.push(h) });
      expect(warnings[0]).toContain(`PID ${child.pid}`);
      expect(warnings[0]).toContain("child run");
      await lock.release();
    } finally {
      child.kill("SIGKILL");
    }
  });
});
