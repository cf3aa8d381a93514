// The shipped scenario suite, run as QA runs it: `rig scenarios/`, one JUnit file over all.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, processesMentioning, readJson, rig, tempDir } from "./helpers.ts";

describe("shipped scenarios", () => {
  it("every scenario in scenarios/ passes on the virtual rig, with one testcase each in one JUnit file", async () => {
    const out = tempDir("otarig-suite-");
    const r = await rig(["scenarios/", "--server", "process", "--out", out], { timeoutMs: 480_000 });
    const scenarios = readdirSync(join(ROOT, "scenarios")).filter((f) => f.endsWith(".yaml"));
    expect(r.all).toMatch(new RegExp(`${scenarios.length} passed, 0 failed`));
    expect(r.exitCode, r.all).toBe(0);
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toMatch(new RegExp(`<testsuites name="otarig" tests="${scenarios.length}" failures="0" errors="0"`));
    expect(junit.match(/<testcase /g)).toHaveLength(scenarios.length);
    // Each scenario's outcome is asserted on the console, the server and the hash: spot-check a few.
    const fleet = readJson(join(out, "fleet-rollout", "result.json"));
    expect(fleet.boards).toHaveLength(8);
    for (const board of fleet.boards) {
      expect(readFileSync(join(out, "fleet-rollout", `${board}.log`), "utf8")).toMatch(/boot: slot=B version=1\.1\.0 /);
    }
    const resumed = readFileSync(join(out, "power-cut-during-download", "dut.log"), "utf8");
    expect(resumed).toMatch(/download resume offset=[1-9]\d*/);
    const torn = readFileSync(join(out, "power-cut-during-install", "dut.log"), "utf8");
    expect(torn).toMatch(/slot B invalid: .*falling back to slot A/);
    // the portal scenario drove a real browser: its trace and screenshots are attached and linked
    const portal = readJson(join(out, "portal-rollout", "result.json"));
    expect(portal.attachments.map((a: { path: string }) => a.path)).toEqual(
      expect.arrayContaining(["browser/trace.zip", "browser/deployment-success.png"]),
    );
    expect(readFileSync(join(out, "portal-rollout", "report.html"), "utf8")).toContain('href="browser/trace.zip"');
    expect(await processesMentioning(out)).toEqual([]);
  }, 500_000);
});
