// A flasher whose process group does not go even on SIGKILL (a process in D state, played here
// through process-group's groupProbe seam): the run ends as an infrastructure error that says
// so, --retries does not start a second flasher on the same port, and the board's lock stays,
// marked with the flasher, for the next run to report.
import { afterEach, describe, expect, it } from "vitest";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runScenario } from "../../harness/runner/run-scenario.ts";
import { loadScenario } from "../../harness/scenario/load-scenario.ts";
import { EventBus, type EventOf } from "../../harness/core/events.ts";
import { groupProbe } from "../../harness/core/process-group.ts";
import { leftBehindGroups } from "../../harness/core/child-registry.ts";
import { PtyPair, tempDir } from "../board/helpers/pty.ts";
import { ROOT } from "../cli/helpers.ts";

const real = { ...groupProbe };
let tmp: ReturnType<typeof tempDir> | undefined;
let pty: PtyPair | undefined;
afterEach(async () => {
  Object.assign(groupProbe, real);
  await pty?.stop();
  tmp?.cleanup();
});

describe("a flasher that survives SIGKILL", () => {
  it("ends the run (exit 3, saying so), is not retried, and leaves the board's lock marked", async () => {
    tmp = tempDir("otarig-unkillable-");
    pty = new PtyPair(tmp.dir, "console");
    await pty.start();
    const flasher = join(tmp.dir, "stuck-flasher.sh");
    writeFileSync(flasher, `#!/bin/sh\necho "flasher pgid $$"\nexec sleep 300\n`);
    chmodSync(flasher, 0o755);
    writeFileSync(
      join(tmp.dir, "rig.yaml"),
      `name: stuck
lock_dir: ./locks
boards:
  dut:
    serial_number: STUCK-1
    profile: ${JSON.stringify(join(ROOT, "fixtures/profiles/virtual-board.yaml"))}
    console: { port: ${JSON.stringify(pty.host)} }
    flash: { command: [./stuck-flasher.sh, "{image}"], timeout: 1s, kill_grace: 100ms }
`,
    );
    writeFileSync(
      join(tmp.dir, "stuck.yaml"),
      `name: stuck
rig: rig.yaml
boards: [dut]
server: { mode: process }
steps:
  - flash: { board: dut, image: ${JSON.stringify(join(ROOT, "fixtures/firmware/app-1.0.0.bin"))} }
`,
    );
    // The flasher's group never empties, as far as the harness can tell.
    let pgid = -1;
    groupProbe.exists = (g) => g === pgid || real.exists(g);
    groupProbe.members = (g) => (g === pgid ? [g] : real.members(g));

    const bus = new EventBus();
    const events: Array<EventOf<"attempt.end"> | EventOf<"log">> = [];
    bus.subscribe((e) => {
      if (e.type === "log" && /flasher pgid (\d+)/.test(e.message)) pgid = Number(/flasher pgid (\d+)/.exec(e.message)![1]);
      if (e.type === "attempt.end" || e.type === "log") events.push(e as never);
    });
    const loaded = await loadScenario(join(tmp.dir, "stuck.yaml"));
    const outcome = await runScenario({ ...loaded, runDir: join(tmp.dir, "run"), bus, signal: new AbortController().signal, retries: 1 });

    expect(pgid).toBeGreaterThan(0);
    expect(outcome.exitCode).toBe(3);
    const attempts = events.filter((e): e is EventOf<"attempt.end"> => e.type === "attempt.end");
    expect(attempts).toHaveLength(1); // --retries 1, and yet no second flasher
    expect(attempts[0]!.retrying).toBe(false);
    expect(attempts[0]!.failure?.message).toMatch(new RegExp(`its process group ${pgid} \\(${pgid}\\) is STILL running after SIGKILL`));
    const logs = events.filter((e): e is EventOf<"log"> => e.type === "log").map((e) => e.message);
    expect(logs).toContain(`not retried: flasher of board dut (process group ${pgid}) is still running after SIGKILL`);
    expect(logs).toContain(`locks kept, marked for the next run: flasher of board dut (process group ${pgid}) still running after SIGKILL`);
    const lockFiles = readdirSync(join(tmp.dir, "locks")).filter((f) => f.endsWith(".lock"));
    expect(lockFiles).toHaveLength(1);
    const lock = JSON.parse(readFileSync(join(tmp.dir, "locks", lockFiles[0]!), "utf8"));
    expect(lock.leftBehind).toEqual([{ pgid, what: "flasher of board dut", pids: [pgid] }]);

    Object.assign(groupProbe, real); // the kernel lets go
    expect(leftBehindGroups()).toEqual([]);
  });
});
