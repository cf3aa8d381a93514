// The longer labgrid cases (`npm run test:labgrid`; test/lab/labgrid.test.ts is the part in
// `npm test`): a power cut through labgrid power, the place freed after a failure and after
// Ctrl-C, and a second run that waits for the place the first one holds.
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listHeldPlaces } from "../../harness/lab/labgrid/held-places.ts";
import { tempDir } from "../board/helpers/pty.ts";
import { processesMentioning, rig, ROOT } from "../cli/helpers.ts";
import { Lab, scenarioOn } from "./helpers/lab.ts";

let tmp: ReturnType<typeof tempDir>;
let lab: Lab;
let rigFile: string;
let locks: string;

beforeAll(async () => {
  tmp = tempDir("otarig-labgrid-more-");
  lab = new Lab(tmp.dir);
  // Flash written at ~32 KiB/s (an install takes ~8 s): a power cut through labgrid lands 1-3 s
  // after the line that triggers it (labgrid-client start-up), and must still find the install running.
  await lab.up("virt1", { board: "virt" }, { flash_chunk_delay_ms: 500 });
  rigFile = join(tmp.dir, "rig.yaml");
  locks = join(tmp.dir, "locks");
  await lab.writeRig(rigFile, { tags: { board: "virt" } });
}, 120_000);

afterAll(async () => {
  await lab?.down();
  tmp?.cleanup();
});

const head = (t: string) => t.slice(0, t.indexOf("  # Vendor side"));

function startRun(scenario: string, out: string) {
  return execa(process.execPath, ["--import", "tsx", join(ROOT, "harness/cli/main.ts"), scenario, "--server", "process", "--out", out], {
    cwd: ROOT,
    reject: false,
    all: true,
    env: { NO_COLOR: "1" },
  });
}

async function untilHeld(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!listHeldPlaces(locks).some((h) => h.place === "virt1")) {
    if (Date.now() > deadline) throw new Error(`no run acquired virt1 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectFree(): Promise<void> {
  expect(await lab.placeState("virt1")).toEqual({});
  expect(listHeldPlaces(locks)).toEqual([]);
}

describe("labgrid places, the longer cases", () => {
  it("rig doctor says the coordinator answers and the place is free, and fails for tags no place has", async () => {
    const placeRig = join(tmp.dir, "rig-place.yaml");
    await lab.writeRig(placeRig, { place: "virt1" });
    const free = await rig(["doctor", placeRig], { timeoutMs: 60_000 });
    expect(free.all).toMatch(/ok\s+board dut\s+labgrid coordinator 127\.0\.0\.1:\d+: place virt1 \(name=virt1\) is free/);
    const noMatch = join(tmp.dir, "rig-doctor-nomatch.yaml");
    await lab.writeRig(noMatch, { tags: { board: "esp32-c3" } });
    const none = await rig(["doctor", noMatch], { timeoutMs: 60_000 });
    expect(none.exitCode).toBe(3);
    expect(none.all).toMatch(/FAIL\s+board dut\s+labgrid coordinator 127\.0\.0\.1:\d+ answers, but no place matches board=esp32-c3/);
  });

  it("power-cut-during-install passes with the cut made through labgrid power", async () => {
    const scenario = join(tmp.dir, "power-cut.yaml");
    scenarioOn("power-cut-during-install", rigFile, scenario);
    const out = join(tmp.dir, "run-cut");
    const result = await rig([scenario, "--server", "process", "--out", out], { timeoutMs: 170_000 });
    if (result.exitCode !== 0) console.log(result.all);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(out, "dut.log"), "utf8")).toMatch(/slot B invalid: .*falling back to slot A/);
    await expectFree();
  });

  it("frees the place after a failed scenario", async () => {
    const scenario = join(tmp.dir, "fails.yaml");
    scenarioOn("ota-happy-path", rigFile, scenario, (t) => `${head(t)}  - expect: { board: dut, pattern: 'never printed', within: 1s }\n`);
    const result = await rig([scenario, "--server", "process", "--out", join(tmp.dir, "run-fail")], { timeoutMs: 90_000 });
    expect(result.exitCode).toBe(1);
    await expectFree();
  });

  it("frees the place after Ctrl-C (exit 130)", async () => {
    const scenario = join(tmp.dir, "held.yaml");
    scenarioOn("ota-happy-path", rigFile, scenario, (t) => `${t.slice(0, t.indexOf("steps:"))}steps:\n  - wait: 25s\n`);
    const run = startRun(scenario, join(tmp.dir, "run-int"));
    await untilHeld();
    run.kill("SIGINT");
    const result = await run;
    expect(result.exitCode).toBe(130);
    await expectFree();
  });

  it("a second run waits for the place the first one holds, then runs", async () => {
    const holder = join(tmp.dir, "holder.yaml");
    scenarioOn("ota-happy-path", rigFile, holder, (t) => `${t.slice(0, t.indexOf("steps:"))}steps:\n  - wait: 6s\n`);
    const boot = join(tmp.dir, "boot.yaml");
    scenarioOn("ota-happy-path", rigFile, boot, head);
    const first = startRun(holder, join(tmp.dir, "run-first"));
    await untilHeld();
    const second = await rig([boot, "--server", "process", "--out", join(tmp.dir, "run-second")], { timeoutMs: 120_000 });
    const firstResult = await first;
    if (second.exitCode !== 0) console.log(second.all);
    expect(firstResult.exitCode).toBe(0);
    expect(second.exitCode).toBe(0);
    const log = readFileSync(join(tmp.dir, "run-second", "run.log"), "utf8");
    expect(log).toMatch(/waiting for labgrid place board=virt \(virt1 held by \S+\/otarig\)/);
    expect(log.indexOf("waiting for labgrid place")).toBeLessThan(log.indexOf("acquired labgrid place virt1"));
    await expectFree();
    // nothing either run started outlives it
    expect(await processesMentioning(join(tmp.dir, "run-"))).toEqual([]);
  });
});
