// rig help steps / rig help step <name> (issue 23 item 9): drawn from the loader's step schemas,
// so every step and every parameter the loader accepts is listed; an unknown step far from every
// name lists the step families instead of a misleading guess.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BLOCK_STEP_NAMES, STEP_NAMES, stepSchemas } from "../../harness/scenario/steps.ts";
import { ROOT, rig, tempDir } from "./helpers.ts";

/** The parameter names of a step's schema (an object, or a union holding one). */
function paramNames(name: string): string[] {
  if (!(name in stepSchemas)) return []; // block steps: repeat, parallel
  const schema = stepSchemas[name as (typeof STEP_NAMES)[number]] as { shape?: Record<string, unknown>; options?: Array<{ shape?: Record<string, unknown> }> };
  const shape = schema.shape ?? schema.options?.find((o) => o.shape && Object.keys(o.shape).length > 0)?.shape;
  return Object.keys(shape ?? {});
}

describe("rig help steps", () => {
  it("lists every step the loader knows, each with every parameter of its schema and what it does", async () => {
    const r = await rig(["help", "steps"]);
    expect(r.exitCode, r.all).toBe(0);
    const lines = r.stdout.split("\n");
    for (const name of [...STEP_NAMES, ...BLOCK_STEP_NAMES]) {
      const at = lines.findIndex((l) => l.startsWith(`  ${name} `));
      expect(at, `${name} is listed`).toBeGreaterThan(0);
      for (const p of paramNames(name)) expect(lines[at], `${name} lists ${p}`).toMatch(new RegExp(`(^|[ ,{])${p}\\??(:|,| }|$)`));
      expect(lines[at + 1]!.trim().length, `${name} says what it does`).toBeGreaterThan(5);
    }
    expect(r.stdout).toMatch(/^ {2}power +board, action: on\|off\|cycle, off\?: duration$/m);
    expect(r.stdout).toMatch(/^ {2}assert\.device +device, state\?: downloading\|installing\|rebooting\|trial\|success\|failure\|failed, /m);
  });

  it("rig help step <name> explains one step, parameter by parameter, from the schema's descriptions", async () => {
    const r = await rig(["help", "step", "expect"]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^expect: waits for a console line matching the regex$/m);
    expect(r.stdout).toMatch(/^ {2}since\? +step\|match\|boot\n {2} +where the search starts\. Default: after the last line an earlier expect or device step consumed/m);
    expect(r.stdout).toMatch(/^ {2}within\? +duration$/m);
    const deployment = await rig(["help", "step", "assert.deployment"]);
    expect(deployment.stdout).toMatch(/^ {2}status +processing\|success\|failed\|failure\n.*failure is read as failed/m);
  });

  it("an unknown step: did-you-mean when one is close, else the families; exit 2", async () => {
    const close = await rig(["help", "step", "expct"]);
    expect(close.exitCode).toBe(2);
    expect(close.stderr).toContain('unknown step "expct", did you mean "expect"?');
    const far = await rig(["help", "step", "frobnicate"]);
    expect(far.exitCode).toBe(2);
    expect(far.stderr).toContain('unknown step "frobnicate" (the steps: flash, power, reset, console.*, expect, settle, wait, set, device.*, backend.*, fault.*, server.*, vendor.*, browser.*, portal.*, fleet.*, assert.*, parallel, repeat, sweep; rig help steps lists them');
  });

  it("the loader lists the families for a step name far from every step", async () => {
    const file = join(tempDir("otarig-help-"), "s.yaml");
    writeFileSync(file, `name: s\nrig: ${ROOT}/rigs/virtual.yaml\nsteps:\n  - frobnicate: { board: dut }\n`);
    const r = await rig(["validate", file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${file}:4:5: unknown step "frobnicate" (the steps: flash, power, reset, console.*, expect,`);
  });
});
