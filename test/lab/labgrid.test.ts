// Boards from a real labgrid lab (coordinator + exporter on 127.0.0.1, the shared recipe): a
// shipped scenario passes on a place, power goes through `labgrid-client power`, the place is
// free afterwards, a run killed with SIGKILL leaves it held until the next run frees it, and a
// tag matching no place is a clear exit 3. Kept lean (each labgrid-client call costs ~0.5 s of
// CPU); the longer cases are in labgrid-more.long.ts (`npm run test:labgrid`).
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listHeldPlaces } from "../../harness/lab/labgrid/held-places.ts";
import { tempDir } from "../board/helpers/pty.ts";
import { rig, ROOT } from "../cli/helpers.ts";
import { Lab, scenarioOn } from "./helpers/lab.ts";

let tmp: ReturnType<typeof tempDir>;
let lab: Lab;
let rigFile: string;

beforeAll(async () => {
  tmp = tempDir("otarig-labgrid-");
  lab = new Lab(tmp.dir);
  await lab.up("virt1", { board: "virt", soc: "x86" });
  rigFile = join(tmp.dir, "rig.yaml");
  await lab.writeRig(rigFile, { place: "virt1" });
}, 120_000);

afterAll(async () => {
  await lab?.down();
  tmp?.cleanup();
});

/** PIDs of every process below `pid`. */
async function descendants(pid: number): Promise<number[]> {
  const { stdout } = await execa("ps", ["-eo", "pid=,ppid="]);
  const children = new Map<number, number[]>();
  for (const line of stdout.trim().split("\n")) {
    const [p, pp] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

/** power cycle and boot banner only: the shortest scenario that needs the console and the power */
function bootScenario(file: string, onRig: string): void {
  scenarioOn("ota-happy-path", onRig, file, (t) => t.slice(0, t.indexOf("  # Vendor side")));
}

describe("a board from a labgrid place", () => {
  it("runs ota-happy-path on the place, switches power through labgrid, and frees the place", async () => {
    const scenario = join(tmp.dir, "happy.yaml");
    scenarioOn("ota-happy-path", rigFile, scenario);
    const out = join(tmp.dir, "run-happy");
    const result = await rig([scenario, "--server", "process", "--out", out], { timeoutMs: 120_000 });
    if (result.exitCode !== 0) console.log(result.all);
    expect(result.exitCode).toBe(0);
    const log = readFileSync(join(out, "dut.log"), "utf8");
    expect(log).toMatch(/boot: slot=B version=1\.1\.0/);
    expect(readFileSync(join(out, "run.log"), "utf8")).toMatch(/acquired labgrid place virt1 as \S+\/otarig/);
    expect(lab.switched()).toEqual(["/outlet/1/0", "/outlet/1/1"]); // power cycle: off, then on
    expect(await lab.placeState("virt1")).toEqual({});
    expect(listHeldPlaces(join(tmp.dir, "locks"))).toEqual([]);
  });

  it("a tag that matches no place is an infrastructure error (exit 3) naming the tags and the places", async () => {
    const noMatch = join(tmp.dir, "rig-nomatch.yaml");
    await lab.writeRig(noMatch, { tags: { board: "esp32-c3" } });
    const scenario = join(tmp.dir, "nomatch.yaml");
    bootScenario(scenario, noMatch);
    const result = await rig([scenario, "--server", "process", "--out", join(tmp.dir, "run-nomatch")], { timeoutMs: 60_000 });
    expect(result.exitCode).toBe(3);
    expect(result.all).toMatch(/no labgrid place matches board=esp32-c3 on coordinator 127\.0\.0\.1:\d+ \(places: virt1 \[board=virt soc=x86\]\)/);
  });

  it("after the harness is killed with SIGKILL the place stays held, and the next run frees it and runs", { timeout: 150_000 }, async () => {
    const scenario = join(tmp.dir, "boot.yaml");
    bootScenario(scenario, rigFile);
    // a run that holds the place and then just waits
    const slow = join(tmp.dir, "slow.yaml");
    scenarioOn("ota-happy-path", rigFile, slow, (t) => `${t.slice(0, t.indexOf("steps:"))}steps:\n  - wait: 60s\n`);
    const killed = execa(process.execPath, ["--import", "tsx", join(ROOT, "harness/cli/main.ts"), slow, "--server", "process", "--out", join(tmp.dir, "run-killed")], {
      cwd: ROOT,
      reject: false,
      env: { NO_COLOR: "1" },
    });
    // its record of the held place (a file: cheaper to watch than asking the coordinator)
    const deadline = Date.now() + 60_000;
    while (!listHeldPlaces(join(tmp.dir, "locks")).some((h) => h.place === "virt1")) {
      if (Date.now() > deadline) throw new Error("the run did not acquire virt1 within 60 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    // what the killed harness started (its OTA server) would outlive it: note it to end it after
    const children = await descendants(killed.pid!);
    killed.kill("SIGKILL");
    await killed;
    for (const pid of children) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    expect((await lab.placeState("virt1")).acquired).toMatch(/\/otarig$/);
    expect(listHeldPlaces(join(tmp.dir, "locks")).map((h) => ({ place: h.place, alive: h.alive }))).toEqual([{ place: "virt1", alive: false }]);

    const out = join(tmp.dir, "run-after-kill");
    const result = await rig([scenario, "--server", "process", "--out", out], { timeoutMs: 90_000 });
    if (result.exitCode !== 0) console.log(result.all);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(out, "run.log"), "utf8")).toMatch(/freed labgrid place virt1 left by otarig process \d+ \(gone\)/);
    expect(await lab.placeState("virt1")).toEqual({});
    expect(listHeldPlaces(join(tmp.dir, "locks"))).toEqual([]);
  });
});
