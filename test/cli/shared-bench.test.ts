// Two runs on one bench at once, through the CLI: boards that share a relay module both run
// (the module's port is held only while a switch goes out), and runs that name the same boards
// in opposite order never deadlock (locks are taken in one global order).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PtyPair, waitFor } from "../board/helpers/pty.ts";
import { ROOT, readJson, rig, tempDir } from "./helpers.ts";

const PROFILE = join(ROOT, "fixtures/profiles/virtual-board.yaml");
let dir: string;
const cleanups: Array<() => Promise<void> | void> = [];
beforeEach(() => {
  dir = tempDir("otarig-shared-");
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  rmSync(dir, { recursive: true, force: true });
});

async function ptyPair(name: string): Promise<PtyPair> {
  const pair = new PtyPair(dir, name);
  await pair.start();
  cleanups.push(() => pair.stop());
  return pair;
}

/** The LCUS emulator on the device end of a PTY pair, as a module plugged in on the bench. */
async function lcusModule(device: string): Promise<Array<{ channel: number; on: boolean }>> {
  const switches: Array<{ channel: number; on: boolean }> = [];
  const proc: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(ROOT, "devices/relay-lcus.ts"), "--tty", device, "--channels", "2"], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  cleanups.push(async () => {
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  });
  let ready = false;
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    const e = JSON.parse(line) as { event: string; channel?: number; on?: boolean };
    if (e.event === "ready") ready = true;
    if (e.event === "switch") switches.push({ channel: e.channel!, on: e.on! });
  });
  await waitFor(() => ready, 20_000, "the LCUS emulator to be ready");
  return switches;
}

/** [start, end] of a run's step in epoch ms, from its result.json. */
function window(result: { startedAt: string; steps: Array<{ path: string; startedMs: number; durationMs: number }> }, path: string): [number, number] {
  const step = result.steps.find((s) => s.path === path)!;
  const t0 = Date.parse(result.startedAt);
  return [t0 + step.startedMs, t0 + step.startedMs + step.durationMs];
}

describe("two runs on one bench", () => {
  it("boards on two channels of one relay module run at the same time, each switching its own channel", async () => {
    const relayLine = await ptyPair("relay");
    const switches = await lcusModule(relayLine.device);
    const rigFile = join(dir, "shared-relay.rig.yaml");
    writeFileSync(
      rigFile,
      `name: shared-relay
lock_dir: ./locks
boards:
  dut1: { serial_number: SH-1, profile: ${JSON.stringify(PROFILE)}, virtual: {}, power: { relay: r1, channel: 1 } }
  dut2: { serial_number: SH-2, profile: ${JSON.stringify(PROFILE)}, virtual: {}, power: { relay: r1, channel: 2 } }
relays:
  r1: { type: lcus, port: ${JSON.stringify(relayLine.host)}, channels: 2 }
`,
    );
    for (const b of ["dut1", "dut2"]) {
      writeFileSync(
        join(dir, `${b}.yaml`),
        `name: cycle-${b}\nrig: shared-relay.rig.yaml\nboards: [${b}]\nserver: { mode: process }\nsteps:\n  - repeat: { times: 8, steps: [ { power: { board: ${b}, action: cycle, off: 150ms } } ] }\n`,
      );
    }
    const [r1, r2] = await Promise.all(
      ["dut1", "dut2"].map((b) => rig([join(dir, `${b}.yaml`), "--out", join(dir, `out-${b}`), "--lock-timeout", "3s"])),
    );
    expect(r1!.exitCode, r1!.all).toBe(0);
    expect(r2!.exitCode, r2!.all).toBe(0);
    // Every frame of both runs reached the module. It reports changes of state: per channel 8
    // "on" (one per cycle) and 8 "off" (cycles 2..8, and the power-off at teardown).
    for (const channel of [1, 2]) {
      const mine = switches.filter((s) => s.channel === channel);
      expect(mine.filter((s) => s.on).length, JSON.stringify(switches)).toBe(8);
      expect(mine.filter((s) => !s.on).length, JSON.stringify(switches)).toBe(8);
    }
    // ... and the two runs' switching overlapped in time: neither held the module for its whole run.
    const [a0, a1] = window(readJson(join(dir, "out-dut1", "result.json")), "1");
    const [b0, b1] = window(readJson(join(dir, "out-dut2", "result.json")), "1");
    expect(a0 < b1 && b0 < a1, `dut1 ${a0}..${a1}, dut2 ${b0}..${b1}`).toBe(true);
  });

  it("runs naming the same two boards in opposite order both finish: one waits, none deadlocks", async () => {
    const a = await ptyPair("a");
    const b = await ptyPair("b");
    const rigFile = join(dir, "two-ports.rig.yaml");
    writeFileSync(
      rigFile,
      `name: two-ports
lock_dir: ./locks
boards:
  a: { serial_number: P-A, profile: ${JSON.stringify(PROFILE)}, console: { port: ${JSON.stringify(a.host)} } }
  b: { serial_number: P-B, profile: ${JSON.stringify(PROFILE)}, console: { port: ${JSON.stringify(b.host)} } }
`,
    );
    for (const [name, boards] of [["ab", "[a, b]"], ["ba", "[b, a]"]] as const) {
      writeFileSync(join(dir, `${name}.yaml`), `name: ${name}\nrig: two-ports.rig.yaml\nboards: ${boards}\nserver: { mode: process }\nsteps:\n  - wait: 1500ms\n`);
    }
    const [rab, rba] = await Promise.all(["ab", "ba"].map((n) => rig([join(dir, `${n}.yaml`), "--out", join(dir, `out-${n}`), "--lock-timeout", "30s"])));
    expect(rab!.exitCode, rab!.all).toBe(0);
    expect(rba!.exitCode, rba!.all).toBe(0);
    const logs = ["ab", "ba"].map((n) => readFileSync(join(dir, `out-${n}`, "run.log"), "utf8"));
    // Both took the same keys in the same (sorted) order, whatever order their scenario named the boards in.
    const keys = [a.host, b.host].map((p) => `port:${realpathSync(p)}`).sort(); // the PTYs' /dev/pts/N
    for (const log of logs) expect(log).toContain(`locked in ${join(dir, "locks")}: ${keys.join(", ")}`);
    expect(logs.filter((l) => /waiting for lock on console of board \w \(rig two-ports\) held by PID/.test(l))).toHaveLength(1);
  });
});
