// What a killed harness left running is found and stopped: by its watchdog the moment it dies,
// or, if the watchdog died too, by the next start. Real processes and state files.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { reapLeftovers } from "../../harness/core/child-registry.ts";
import { groupMembers, processStartTime } from "../../harness/core/process-group.ts";
import { tempDir, waitFor } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
const groups: number[] = [];
beforeEach(() => {
  tmp = tempDir("otarig-children-");
});
afterEach(() => {
  for (const g of groups.splice(0)) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  tmp.cleanup();
});

/** A process group (sh + a sleeping child) that ignores SIGTERM, like a stuck tool. */
async function stubbornGroup(): Promise<number> {
  const child = spawn("sh", ["-c", "trap '' TERM; sleep 300 & wait"], { detached: true, stdio: "ignore" });
  await new Promise((r) => child.once("spawn", r));
  groups.push(child.pid!);
  await waitFor(() => groupMembers(child.pid!).length === 2, 5000, "the group's sleep");
  return child.pid!;
}

describe("child registry", () => {
  it("the next start stops the groups a dead harness recorded (SIGTERM, then SIGKILL), and only those", async () => {
    const dir = join(tmp.dir, "children");
    mkdirSync(dir);
    const left = await stubbornGroup();
    const notOurs = await stubbornGroup(); // same PID recorded with another start time: a reused PID
    const deadHarness = Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
    const file = join(dir, `${deadHarness}-999.children`);
    writeFileSync(file, `${left} ${processStartTime(left)} OTA server process\n${notOurs} ${processStartTime(notOurs)! + 7} board program\n`);
    const reaped = await reapLeftovers(dir);
    expect(reaped).toEqual([{ owner: `PID ${deadHarness}`, what: "OTA server process", pgid: left }]);
    expect(groupMembers(left)).toEqual([]);
    expect(groupMembers(notOurs)).toHaveLength(2);
    expect(existsSync(file)).toBe(false);
  });

  it("leaves the file of a harness that still runs alone", async () => {
    const dir = join(tmp.dir, "children");
    mkdirSync(dir);
    const group = await stubbornGroup();
    const file = join(dir, `${process.pid}-${processStartTime(process.pid)}.children`);
    writeFileSync(file, `${group} ${processStartTime(group)} tool\n`);
    expect(await reapLeftovers(dir)).toEqual([]);
    expect(existsSync(file)).toBe(true);
    expect(groupMembers(group)).toHaveLength(2);
  });

  it("the watchdog stops a SIGKILLed harness's children at once", async () => {
    const registry = resolve(import.meta.dirname, "../../harness/core/child-registry.ts");
    const dir = join(tmp.dir, "children");
    const code = `
      import { spawn } from "node:child_process";
      import { startChildRegistry, trackChild } from ${JSON.stringify(registry)};
      await startChildRegistry(${JSON.stringify(dir)});
      const c = spawn("sh", ["-c", "trap '' TERM; sleep 300 & wait"], { detached: true, stdio: "ignore" });
      c.once("spawn", () => { trackChild(c.pid, "stubborn tool"); console.log("child " + c.pid); });
      setInterval(() => {}, 1000);
    `;
    const harness = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    const pgid = await new Promise<number>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("the harness did not start its child within 20s")), 20_000);
      harness.stdout.on("data", (d: Buffer) => {
        const m = /child (\d+)/.exec(d.toString());
        if (m) (clearTimeout(timer), ok(Number(m[1])));
      });
    });
    groups.push(pgid);
    await waitFor(() => groupMembers(pgid).length === 2, 5000, "the child's sleep");
    harness.kill("SIGKILL");
    await waitFor(() => groupMembers(pgid).length === 0, 10_000, "the watchdog to stop the dead harness's child");
  });
});
