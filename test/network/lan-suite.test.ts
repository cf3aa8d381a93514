// The whole shipped suite on isolated boards (70-80 s on 2 cores): part of npm test, since it is
// what proves every shipped scenario, faults included, on a path with no loopback; `npm run
// test:lan` runs it alone.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processesMentioning, readJson, rig, tempDir } from "../cli/helpers.ts";
import { leftBehind, namespacesIn } from "./helpers.ts";

const dir = tempDir("otarig-lan-suite-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("every shipped scenario on rigs/virtual-lan.yaml", () => {
  it("passes, and leaves no namespace, veth or process behind", async () => {
    const out = join(dir, "suite");
    const r = await rig(["scenarios/", "--rig", "rigs/virtual-lan.yaml", "--out", out], { timeoutMs: 600_000 });
    expect(r.exitCode, r.all).toBe(0);
    const scenarios = readdirSync("scenarios").filter((f) => f.endsWith(".yaml"));
    for (const file of scenarios) {
      const name = file.replace(/\.yaml$/, "");
      expect(readJson(join(out, name, "result.json")).status, name).toBe("passed");
      const runLog = readFileSync(join(out, name, "run.log"), "utf8");
      const made = namespacesIn(runLog);
      expect(made.length, `${name} ran isolated boards`).toBeGreaterThan(0);
      expect(runLog, name).not.toMatch(/board reaches the server at http:\/\/127\./);
      for (const m of made) expect(await leftBehind(m), `${name}: ${m.namespace} or its veth`).toBe(false);
    }
    expect(await processesMentioning(out)).toEqual([]);
  }, 660_000);
});
