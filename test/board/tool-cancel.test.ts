// runTool stops a tool with everything it forked: SIGTERM to the process group, a grace, then
// SIGKILL, and returns only once nothing of it is left. Real processes, read back from /proc.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runTool } from "../../harness/board/exec.ts";
import { InfraError } from "../../harness/core/errors.ts";
import { groupProbe, procStat } from "../../harness/core/process-group.ts";
import { leftBehindGroups } from "../../harness/core/child-registry.ts";
import { tempDir } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
let stubborn: string;
beforeEach(() => {
  tmp = tempDir();
  stubborn = join(tmp.dir, "stubborn-flasher.sh");
  // Ignores SIGTERM (and so does the child it forks: ignored signals survive fork and exec).
  writeFileSync(
    stubborn,
    `#!/bin/sh
trap '' TERM
sleep 300 &
echo "pids $$ $!"
while :; do sleep 0.1; done
`,
  );
  chmodSync(stubborn, 0o755);
});
afterEach(() => tmp.cleanup());

function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z";
}

async function runStubborn(extra: { timeoutMs: number; signal?: AbortSignal }) {
  const lines: string[] = [];
  let pids: number[] = [];
  const err = await runTool({
    command: [stubborn],
    what: "flasher of board dut",
    killGraceMs: 300,
    onLine: (line) => {
      lines.push(line);
      const m = /^pids (\d+) (\d+)/.exec(line);
      if (m) pids = [Number(m[1]), Number(m[2])];
    },
    ...extra,
  }).catch((e: unknown) => e);
  return { err, lines, pids };
}

describe("runTool cancellation", () => {
  it("on its timeout kills a tool that ignores SIGTERM and the child it forked, and says how", async () => {
    const { err, lines, pids } = await runStubborn({ timeoutMs: 500 });
    expect(pids).toHaveLength(2);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/flasher of board dut: .*stubborn-flasher\.sh` timed out after 500ms; killed with SIGKILL after ignoring SIGTERM/);
    // Nothing of it is left the moment runTool returns.
    expect(pids.filter(alive)).toEqual([]);
    const note = lines.find((l) => l.startsWith("otarig:"));
    expect(note).toMatch(/sent SIGTERM to process group \d+ \(\d+ processes: .*\); still running after the 300ms grace, sent SIGKILL; gone after/);
  });

  it("stops the tool when the step's signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const { err, pids } = await runStubborn({ timeoutMs: 60_000, signal: controller.signal });
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/was stopped .*killed with SIGKILL/);
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("a tool that goes on SIGTERM is not SIGKILLed, and a child it left behind after exiting is stopped", async () => {
    const polite = join(tmp.dir, "polite.sh");
    writeFileSync(polite, `#!/bin/sh\nsleep 300 &\necho "pid $!"\nexit 0\n`);
    chmodSync(polite, 0o755);
    let child = 0;
    const lines: string[] = [];
    await runTool({
      command: [polite],
      what: "reset command",
      timeoutMs: 10_000,
      onLine: (l) => {
        lines.push(l);
        const m = /^pid (\d+)/.exec(l);
        if (m) child = Number(m[1]);
      },
    });
    expect(child).toBeGreaterThan(0);
    expect(alive(child)).toBe(false);
    expect(lines.some((l) => /stopped 1 process\(es\) it left behind \(SIGTERM\)/.test(l))).toBe(true);
  });
});

describe("a process group that survives SIGKILL", () => {
  // A process in D state cannot be made on demand: the probe plays one, whose group never empties.
  const real = { ...groupProbe };
  afterEach(() => Object.assign(groupProbe, real));

  it("ends runTool with an error that says so, and is remembered as left behind", async () => {
    let pgid = 0;
    groupProbe.exists = (g) => g === pgid || real.exists(g);
    groupProbe.members = (g) => (g === pgid ? [g] : real.members(g));
    const lines: string[] = [];
    const started = performance.now();
    const err = await runTool({
      command: [stubborn],
      what: "flasher of board dut",
      killGraceMs: 100,
      timeoutMs: 300,
      onLine: (line) => {
        lines.push(line);
        const m = /^pids (\d+)/.exec(line);
        if (m) pgid = Number(m[1]);
      },
    }).catch((e: unknown) => e);
    expect(pgid).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(
      new RegExp(`flasher of board dut: .*stubborn-flasher\\.sh\` timed out after 300ms, and its process group ${pgid} \\(.*\\) is STILL running after SIGKILL`),
    );
    // It gave up after the bound (grace + the wait for SIGKILL), not at once, and not never.
    expect(performance.now() - started).toBeGreaterThan(5000);
    expect(leftBehindGroups()).toEqual([expect.objectContaining({ pgid, what: "flasher of board dut" })]);
    // Once the kernel lets go (here: the probe stops pretending), it is no longer left behind.
    Object.assign(groupProbe, real);
    expect(leftBehindGroups()).toEqual([]);
  });
});
