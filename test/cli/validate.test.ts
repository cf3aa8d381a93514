import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, ROOT, rig } from "./helpers.ts";

const yamlIn = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".yaml")).map((f) => join(dir, f));

describe("rig validate", () => {
  it("accepts every shipped scenario, rig (examples too) and profile", async () => {
    const files = [...yamlIn("scenarios"), ...yamlIn("scenarios/failing"), ...yamlIn("rigs"), ...yamlIn("rigs/examples"), ...yamlIn("fixtures/profiles")];
    const r = await rig(["validate", ...files]);
    expect(r.exitCode, r.all).toBe(0);
    for (const f of files) expect(r.all).toContain(`${f}: ok`);
  });

  it("reports errors as file:line:col and exits 2, starting nothing", async () => {
    const r = await rig(["validate", join(FIXTURES, "misspelled-step.yaml")]);
    expect(r.exitCode).toBe(2);
    expect(r.all).toMatch(/misspelled-step\.yaml:6:5: /);
  });
});
