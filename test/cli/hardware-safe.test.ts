// Hardware-safe runs through the CLI, as a user runs them: tools that hang or ignore SIGTERM
// are stopped with all they forked, hardware timeouts are infrastructure errors that --retries
// reruns (every attempt reported), and a harness killed with SIGKILL leaves nothing running.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { procStat } from "../../harness/core/process-group.ts";
import { PtyPair } from "../board/helpers/pty.ts";
import { FIXTURES, ROOT, processesMentioning, readJson, rig, tempDir as makeTempDir, waitForOutput } from "./helpers.ts";

const SAFE = join(FIXTURES, "safe");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = makeTempDir("otarig-safe-");
  dirs.push(d);
  return d;
}

function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z";
}

function pidsIn(text: string, label: string): number[] {
  return [...new Set([...text.matchAll(new RegExp(`${label} pids (\\d+) (\\d+)`, "g"))].flatMap((m) => [Number(m[1]), Number(m[2])]))];
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

describe("tools that hang", () => {
  it("a hung relay command: killed (SIGTERM ignored -> SIGKILL), exit 3, retried under --retries 1, two attempts reported", async () => {
    const out = tempDir();
    const r = await rig([join(SAFE, "hung-relay.yaml"), "--retries", "1", "--out", out]);
    expect(r.exitCode, r.all).toBe(3);
    const result = readJson(join(out, "result.json"));
    expect(result.failureClass).toBe("infrastructure");
    expect(result.attempts).toHaveLength(2);
    for (const [i, a] of result.attempts.entries()) {
      expect(a).toMatchObject({ n: i + 1, outcome: "failed", failure: { failureClass: "infrastructure", step: "1" } });
      expect(a.failure.message).toMatch(/relay r1 \(channel 1 on\): `\.\/hang-relay\.sh 1 on` timed out after 1\.0s; killed with SIGKILL after ignoring SIGTERM/);
    }
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toMatch(/<error message="attempt 2 of 2: step 1 \(power dut on\) at \S+:\d+:\d+ failed: relay r1 [^"]*" type="infrastructure">/);
    expect(junit).toMatch(/attempts: 2\nattempt 1: failed \(infrastructure, step 1\): relay r1/);
    // The failed attempt's files are kept aside; the command relay ran in the rig's directory
    // and its output and how it was killed are in run.log.
    expect(existsSync(join(out, "attempt-1", "dut.log"))).toBe(true);
    const log = readFileSync(join(out, "run.log"), "utf8");
    expect(log).toContain(`relay r1: relay tool in ${SAFE} switching channel 1 on`);
    expect(log).toMatch(/relay r1: otarig: timed out after 1\.0s; sent SIGTERM to process group \d+ \(2 processes: \d+, \d+\); still running after the 300ms grace, sent SIGKILL; gone after/);
    const pids = pidsIn(log, "relay tool");
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("a flash step stopped by its own timeout stops the flasher and its child before the step ends (exit 3)", async () => {
    const out = tempDir();
    const r = await rig([join(SAFE, "stubborn-flash.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(3);
    const result = readJson(join(out, "result.json"));
    expect(result.failedStep).toBe("1");
    expect(result.message).toMatch(/^step 1 \(flash\) did not finish within 1s\nflasher of board dut: .* was stopped \(step 1 \(flash\) did not finish within 1s\); killed with SIGKILL after ignoring SIGTERM/);
    const log = readFileSync(join(out, "run.log"), "utf8");
    expect(log).toMatch(/dut flasher: otarig: stopped \(step 1 \(flash\) did not finish within 1s\); sent SIGTERM to process group/);
    // The step ended only once the flasher was gone: its end comes after the kill in run.log.
    expect(log.indexOf("step 1 failed")).toBeGreaterThan(log.indexOf("sent SIGKILL"));
    const pids = pidsIn(log, "flasher");
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
  });
});

describe("Ctrl-C", () => {
  it("stops a running flasher with everything it forked before teardown; exit 130", async () => {
    const out = tempDir();
    const child = rig([join(SAFE, "stubborn-flash-long.yaml"), "--out", out]);
    await waitForOutput(child, "flashing 10%", "the flasher did not start", 60_000);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    const log = readFileSync(join(out, "run.log"), "utf8");
    expect(log).toMatch(/dut flasher: otarig: stopped \(run cancelled\); sent SIGTERM to process group \d+ .*sent SIGKILL; gone after/);
    const pids = pidsIn(log, "flasher");
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
  });
});

describe("rig-given timeouts and directories", () => {
  it("a flash step waits the rig's flash.timeout, not the scenario's default; reset commands run in the rig's directory, output in run.log", async () => {
    const out = tempDir();
    const r = await rig([join(SAFE, "slow-flash.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    const log = readFileSync(join(out, "run.log"), "utf8");
    expect(log).toContain(`dut reset: reset tool in ${SAFE}`);
  });
});

describe("parallel branches", () => {
  it("a failed branch stops the others: the flasher of the other branch is killed, the verdict is the failure (exit 1)", async () => {
    const out = tempDir();
    const r = await rig([join(SAFE, "parallel-stop.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(1);
    const result = readJson(join(out, "result.json"));
    expect(result.failedStep).toBe("1.fails.2");
    const flash = result.steps.find((s: { path: string }) => s.path === "1.flashes.1");
    expect(flash.status).toBe("failed");
    expect(flash.error.message).toMatch(/^stopped: parallel branch fails of step 1 failed/);
    const log = readFileSync(join(out, "run.log"), "utf8");
    expect(log).toMatch(/dut flasher: otarig: stopped \(stopped: parallel branch fails of step 1 failed\); sent SIGTERM to process group \d+ .*sent SIGKILL; gone after/);
    const pids = pidsIn(log, "flasher");
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
  });
});

describe("faults", () => {
  it("a power cut whose relay fails fails the run as an infrastructure error (exit 3)", async () => {
    const dir = tempDir();
    const line = new PtyPair(dir, "console");
    await line.start();
    try {
      writeFileSync(
        join(dir, "cut.rig.yaml"),
        `name: failing-cut
lock_dir: ./locks
boards:
  dut:
    serial_number: CUT-1
    profile: ${JSON.stringify(join(ROOT, "fixtures/profiles/virtual-board.yaml"))}
    console: { port: ${JSON.stringify(line.host)} }
    power: { relay: r1, channel: 1 }
relays:
  r1: { type: command, on: [${JSON.stringify(join(SAFE, "fail-relay.sh"))}, "{channel}"], off: [${JSON.stringify(join(SAFE, "fail-relay.sh"))}, "{channel}"] }
`,
      );
      writeFileSync(
        join(dir, "cut.yaml"),
        `name: failing-cut
rig: cut.rig.yaml
boards: [dut]
server: { mode: process }
steps:
  - fault.power_cut: { board: dut, when: 'download progress 50%' }
  - expect: { board: dut, pattern: 'download progress 50%', within: 30s }
  - wait: 1s
  - set: { never: reached }
`,
      );
      const out = join(dir, "out");
      const run = rig([join(dir, "cut.yaml"), "--out", out]);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the run never reached its expect step within 60s")), 60_000);
        run.all!.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("2 expect")) (clearTimeout(timer), resolve());
        });
      });
      writeFileSync(line.device, "download progress 50%\n"); // the board prints the line the cut waits for
      const r = await run;
      expect(r.exitCode, r.all).toBe(3);
      const result = readJson(join(out, "result.json"));
      expect(result.failureClass).toBe("infrastructure");
      expect(result.message).toMatch(/fault\.power_cut \(step 1\) on dut: switching the power failed: relay r1 \(channel 1 off\): .*fail-relay\.sh 1` exited with code 1/);
      expect(result.message).toContain("usbrelay: no relay module found for channel 1");
      expect(result.steps.map((s: { path: string }) => s.path)).not.toContain("4");
    } finally {
      await line.stop();
    }
  });
});

describe("nothing outlives the harness", () => {
  it("after SIGKILL of rig mid-run, the process server, board program, relay emulator and socat all go", async () => {
    const out = tempDir();
    const child = rig([join(FIXTURES, "long-wait.yaml"), "--out", out]);
    await waitForOutput(child, "4 wait", "the run never reached its wait step", 60_000);
    const log = readFileSync(join(out, "run.log"), "utf8");
    const port = Number(/process server at http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await portOpen(port)).toBe(true);
    expect((await processesMentioning(out)).length).toBeGreaterThan(0); // board program, relay emulator, socat
    child.kill("SIGKILL");
    await child;
    await until(async () => (await processesMentioning(out)).length === 0 && !(await portOpen(port)), 15_000, "the killed run's children to go");
  });

  it("a second Ctrl-C quits at once, and the watchdog still stops what teardown did not", async () => {
    const out = tempDir();
    const child = rig([join(FIXTURES, "long-wait.yaml"), "--out", out]);
    await waitForOutput(child, "4 wait", "the run never reached its wait step", 60_000);
    const port = Number(/process server at http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(join(out, "run.log"), "utf8"))?.[1]);
    child.kill("SIGINT");
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    await until(async () => (await processesMentioning(out)).length === 0 && !(await portOpen(port)), 15_000, "the interrupted run's children to go");
  });
});
