// The CLI as a user runs it: a subprocess, real virtual boards on PTYs, a real server process.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, ROOT, processesMentioning, readJson, rig, tempDir, waitForOutput } from "./helpers.ts";

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("rig run (subprocess)", () => {
  it("runs the happy path: 1.0.0 -> 1.1.0 through the server, one JUnit test, board log with both boots", async () => {
    const out = tempDir();
    const r = await rig(["scenarios/ota-happy-path.yaml", "--server", "process", "--out", out]);
    expect(r.all).toContain("ota-happy-path");
    expect(r.exitCode, r.all).toBe(0);
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toMatch(/<testsuites name="otarig" tests="1" failures="0" errors="0"/);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain('<span class="verdict passed" id="verdict">passed</span>');
    const log = readFileSync(join(out, "dut.log"), "utf8");
    const target = sha(join(ROOT, "fixtures/firmware/app-1.1.0.bin"));
    const oldBoot = log.search(/boot: slot=A version=1\.0\.0 sha256=/);
    const newBoot = log.search(new RegExp(`boot: slot=B version=1\\.1\\.0 sha256=${target}`));
    expect(oldBoot).toBeGreaterThanOrEqual(0);
    expect(newBoot).toBeGreaterThan(oldBoot);
    expect(log).toMatch(/^\[\s*\d+\.\d{3}\] /m); // every line stamped with time since run start
    const result = readJson(join(out, "result.json"));
    expect(result.status).toBe("passed");
    expect(result.server.mode).toBe("process");
    // The CIK the board got lives in its own flash, never in a log or a report.
    const cik = readJson(join(out, "virtual", "dut", "flash", "nvs.json")).cik;
    expect(cik).toMatch(/^[0-9a-f]{40}$/);
    for (const f of ["run.log", "dut.log", "result.json", "junit.xml", "events.jsonl", "report.html"]) expect(readFileSync(join(out, f), "utf8")).not.toContain(cik);
    // Teardown: nothing the run started is left running.
    expect(await processesMentioning(out)).toEqual([]);
  });

  it("exits 1 when an expectation cannot match; JUnit names the step and shows the last console lines", async () => {
    const out = tempDir();
    const r = await rig([join(FIXTURES, "never-matches.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(1);
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toMatch(/failures="1"/);
    expect(junit).toMatch(/<failure message="step 3 \(expect dut \/version=9\\.9\\.9\/\) at \S+never-matches\.yaml:\d+:\d+ failed/);
    expect(junit).toMatch(/boot: slot=A version=1\.0\.0/); // the board's last lines are in the failure
    expect(readJson(join(out, "result.json")).failureClass).toBe("test");
    expect(await processesMentioning(out)).toEqual([]);
  });

  it("exits 2 with file:line:col and a suggestion for a misspelled step, touching nothing", async () => {
    const out = tempDir();
    const r = await rig([join(FIXTURES, "misspelled-step.yaml"), "--out", out]);
    expect(r.exitCode).toBe(2);
    expect(r.all).toMatch(/misspelled-step\.yaml:6:5: .*expct.*did you mean "expect"/);
    expect(existsSync(join(out, "result.json"))).toBe(false);
  });

  it("exits 3 naming the port when the rig names a serial port that does not exist", async () => {
    const out = tempDir();
    const r = await rig([join(FIXTURES, "missing-port.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain("/dev/otarig-no-such-port");
    expect(readJson(join(out, "result.json")).failureClass).toBe("infrastructure");
  });

  it("fails a step that outlives its timeout (exit 1) and runs no later step", async () => {
    const out = tempDir();
    const r = await rig([join(FIXTURES, "step-timeout.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(1);
    const result = readJson(join(out, "result.json"));
    expect(result.failedStep).toBe("2");
    expect(result.message).toMatch(/step 2 \(wait\) did not finish within 1s/);
    expect(result.steps.map((s: { path: string }) => s.path)).toEqual(["1", "2"]);
  });

  it("stops cleanly on SIGINT: teardown runs, reports are written, exit 130, nothing left running", async () => {
    const out = tempDir();
    const child = rig([join(FIXTURES, "long-wait.yaml"), "--out", out]);
    await waitForOutput(child, "4 wait", "the run never reached its wait step", 60_000);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    const result = readJson(join(out, "result.json"));
    expect(result.status).toBe("interrupted");
    expect(readFileSync(join(out, "junit.xml"), "utf8")).toMatch(/type="interrupted"/);
    expect(await processesMentioning(out)).toEqual([]);
  });
});

describe("interrupting a fleet", () => {
  it("SIGINT in the middle of fleet-rollout leaves no process or container of the run behind", async () => {
    const out = tempDir();
    const child = rig(["scenarios/fleet-rollout.yaml", "--out", out], { timeoutMs: 180_000 });
    await waitForOutput(child, /… 1[01] device\.(download|install)/, "fleet-rollout never reached its download step", 150_000);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    expect(readJson(join(out, "result.json")).status).toBe("interrupted");
    expect(await processesMentioning(out)).toEqual([]);
    const result = readJson(join(out, "result.json"));
    if (result.server?.containerId) expect(await containerExists(result.server.containerId)).toBe(false);
  }, 200_000);
});

async function containerExists(id: string): Promise<boolean> {
  const { execa } = await import("execa");
  const r = await execa("docker", ["inspect", id], { reject: false });
  return r.exitCode === 0;
}

describe("blocks", () => {
  it("runs parallel branches and repeat rounds, numbering their steps by branch and round", async () => {
    const out = tempDir();
    const r = await rig([join(FIXTURES, "blocks.yaml"), "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    const paths = readJson(join(out, "result.json")).steps.map((s: { path: string }) => s.path);
    for (const p of ["1.first.1", "1.first.3", "1.second.3", "1", "2.1.1", "2.2.2", "2", "3"]) expect(paths).toContain(p);
    // Both boards booted; b2 booted three times (power on + two resets).
    expect(readFileSync(join(out, "b1.log"), "utf8").match(/^\[[ \d.]+\] boot: /gm)).toHaveLength(1);
    expect(readFileSync(join(out, "b2.log"), "utf8").match(/^\[[ \d.]+\] boot: /gm)).toHaveLength(3);
  });
});
