import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

describe("rig validate: directories, and the files a scenario names", () => {
  it("takes directories as rig and rig list do", async () => {
    const r = await rig(["validate", "scenarios/", "rigs"]);
    expect(r.exitCode, r.all).toBe(0);
    for (const f of [...yamlIn("scenarios"), ...yamlIn("rigs")]) expect(r.all).toContain(`${f}: ok`);
  });

  it("reports an image or upload that does not exist at the step's parameter, and rig run exits 2 before starting anything", async () => {
    const dir = mkdtempSync(join(tmpdir(), "otarig-files-"));
    const file = join(dir, "missing.yaml");
    writeFileSync(
      file,
      [
        "name: missing-files",
        `rig: ${ROOT}/rigs/virtual.yaml`,
        "boards: [dut]",
        "server: { mode: process }",
        "vars:",
        "  image: ./nope-1.0.0.bin",
        "steps:",
        '  - flash: { board: dut, image: "${image}" }',
        "  - vendor.upload: { file: ../no-such-upload.bin, as: fw }",
        "  - assert.hash: { board: dut, equals: 83d91d0076bfacd08e87effa1433300b1b9a55acae1dc9adbfec6d85b88f9ed1 }",
        "  - backend.create: { as: be }",
        "  - backend.upload: { firmware: be, file: \"${be.id}.bin\" }", // known only at run time: left to the step
        "",
      ].join("\n"),
    );
    const v = await rig(["validate", dir]);
    expect(v.exitCode, v.all).toBe(2);
    expect(v.stderr).toContain(`${file}:8:33: flash image: no file ${join(dir, "nope-1.0.0.bin")} (from \${image})`);
    expect(v.stderr).toContain(`${file}:9:28: vendor.upload file: no file ${join(tmpdir(), "no-such-upload.bin")}`);
    expect(v.stderr).toMatch(/2 error\(s\)/);

    const out = join(dir, "run");
    const r = await rig([file, "--out", out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain(`${file}:8:33: flash image: no file`);
    expect(existsSync(out)).toBe(false); // no server, no board, no run directory
  });
});
