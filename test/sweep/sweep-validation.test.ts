// A sweep that cannot work is stopped at load time (exit 2, file:line:col, what was expected),
// before anything starts: no points, count < 1, nth < 1, a point beyond what the update writes,
// a write cut on a board that cannot report writes, no boot pattern, no flasher to recover with.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ScenarioError, ScenarioErrors } from "../../harness/core/errors.ts";
import { loadScenario } from "../../harness/scenario/load-scenario.ts";
import { ROOT, rig, tempDir } from "../cli/helpers.ts";

const dir = tempDir("otarig-sweep-validation-");
const FIXTURES = join(ROOT, "test/sweep/fixtures");
const IMAGES = { base: join(ROOT, "fixtures/firmware/app-1.0.0.bin"), target: join(ROOT, "fixtures/firmware/app-1.1.0.bin") };

/** A scenario around one sweep; `sweep` is the YAML of its mapping, indented by 6. */
function scenarioFile(name: string, sweep: string, rigFile = join(ROOT, "rigs/virtual.yaml")): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
rig: ${rigFile}
vars: { base: ${IMAGES.base}, target: ${IMAGES.target} }
steps:
  - sweep:
${sweep}
`,
  );
  return file;
}

const BODY = `      setup:
        - flash: { board: dut, image: "\${base}" }
      steps:
        - fault.power_cut: { board: dut, write: "\${sweep.point}" }
        - device.install: { board: dut }`;

async function errorsOf(file: string): Promise<string[]> {
  try {
    await loadScenario(file);
  } catch (err) {
    if (err instanceof ScenarioErrors) return err.errors.map((e) => e.toString());
    if (err instanceof ScenarioError) return [err.toString()];
    throw err;
  }
  return [];
}

describe("sweep validation", () => {
  it("accepts the shipped sweeps", async () => {
    expect(await errorsOf(join(ROOT, "scenarios/power-cut-sweep.yaml"))).toEqual([]);
    expect(await errorsOf(join(ROOT, "scenarios/failing/unsafe-install-sweep.yaml"))).toEqual([]);
  });

  it("a sweep with no points", async () => {
    const file = scenarioFile("no-points", `      board: dut\n      base: "\${base}"\n      target: "\${target}"\n      points: []\n${BODY}`);
    expect(await errorsOf(file)).toEqual([expect.stringMatching(/no-points\.yaml:9:15: points: expected at least 1 item/)]);
  });

  it("count < 1, and from after to", async () => {
    const file = scenarioFile("count", `      board: dut\n      base: "\${base}"\n      target: "\${target}"\n      points: { from: 10, to: 0, count: 0 }\n${BODY}`);
    const errors = (await errorsOf(file)).join("\n");
    expect(errors).toMatch(/count\.yaml:9:\d+: points\.count: expected a number >= 1, got 0/);
    const reversed = scenarioFile("reversed", `      board: dut\n      base: "\${base}"\n      target: "\${target}"\n      points: { from: 10, to: 0, count: 3 }\n${BODY}`);
    expect(await errorsOf(reversed)).toEqual([expect.stringMatching(/reversed\.yaml:9:\d+: points: from must not be greater than to/)]);
  });

  it("nth < 1, as written and as a point", async () => {
    const literal = scenarioFile(
      "nth-literal",
      `      board: dut\n      base: "\${base}"\n      target: "\${target}"\n      points: [1, 2]\n      steps:\n        - fault.power_cut: { board: dut, when: '^install progress', nth: 0 }`,
    );
    expect((await errorsOf(literal)).join("\n")).toMatch(/nth-literal\.yaml:11:\d+: nth: expected a number >= 1, got 0/);
    const points = scenarioFile(
      "nth-point",
      `      board: dut\n      base: "\${base}"\n      target: "\${target}"\n      points: [0, 3]\n      steps:\n        - fault.power_cut: { board: dut, when: '^install progress', nth: "\${sweep.point}" }`,
    );
    expect((await errorsOf(points)).join("\n")).toMatch(/nth-point\.yaml:11:\d+: nth: \$\{sweep\.point\} needs whole-number points >= 1, got 0/);
  });

  it("a point beyond what the update writes", async () => {
    const file = scenarioFile("beyond", `      board: dut\n      base: "\${base}"\n      target: "\${target}"\n      points: [0, 524543, 524544, 900000]\n${BODY}`);
    expect(await errorsOf(file)).toEqual([
      expect.stringMatching(/beyond\.yaml:13:\d+: points beyond the range: 524544, 900000 \(the update writes 262272 bytes to the download area, then 262272 to a slot: offsets 0-524543\)/),
    ]);
  });

  it("a write cut on a board that cannot report its writes (a real bench)", async () => {
    const file = scenarioFile(
      "real-bench",
      `      board: dut1\n      base: "\${base}"\n      target: "\${target}"\n      points: [0]\n      steps:\n        - fault.power_cut: { board: dut1, write: "\${sweep.point}" }`,
      join(ROOT, "rigs/examples/bench-esp32.yaml"),
    );
    expect(await errorsOf(file)).toEqual([expect.stringMatching(/real-bench\.yaml:11:\d+: a write: cut needs a board that reports its flash writes .*board dut1 does not/)]);
  });

  it("a profile with no boot pattern, and a board with no flasher to recover with", async () => {
    const rigFile = join(FIXTURES, "sweep-rig.yaml");
    const noBoot = scenarioFile("no-boot", `      board: noboot\n      base: "\${base}"\n      target: "\${target}"\n      points: [1]\n      steps:\n        - fault.power_cut: { board: noboot, when: x }`, rigFile);
    expect(await errorsOf(noBoot)).toEqual([expect.stringMatching(/no-boot\.yaml:6:14: a sweep tells old from new by the boot line: the profile of board noboot .* has no patterns\.booted/)]);
    const noFlash = scenarioFile("no-flash", `      board: noflash\n      base: "\${base}"\n      target: "\${target}"\n      points: [1]\n      steps:\n        - fault.power_cut: { board: noflash, when: x }`, rigFile);
    expect(await errorsOf(noFlash)).toEqual([expect.stringMatching(/no-flash\.yaml:6:14: a sweep restores a bricked board through the rig's flasher .*board noflash has no flash: in rig sweep-checks \(add one, or stop_on: bricked\)/)]);
    const stops = scenarioFile("stops", `      board: noflash\n      base: "\${base}"\n      target: "\${target}"\n      points: [1]\n      stop_on: bricked\n      steps:\n        - fault.power_cut: { board: noflash, when: x }`, rigFile);
    expect(await errorsOf(stops)).toEqual([]);
  });

  it("a base or target image that does not exist", async () => {
    const file = scenarioFile("no-image", `      board: dut\n      base: "\${base}"\n      target: ./nowhere/app-9.bin\n      points: [0]\n${BODY}`);
    expect(await errorsOf(file)).toEqual([expect.stringMatching(/no-image\.yaml:8:15: sweep target: no file .*nowhere\/app-9\.bin/)]);
  });

  it("rig run exits 2 and starts nothing", async () => {
    const file = scenarioFile("cli", `      board: dut\n      base: "\${base}"\n      target: "\${target}"\n      points: { from: 0, to: 10, count: 0 }\n${BODY}`);
    const out = join(dir, "cli-run");
    const r = await rig([file, "--out", out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toMatch(/cli\.yaml:9:\d+: points\.count: expected a number >= 1, got 0/);
    expect(r.all).not.toMatch(/server|flash dut/);
  });
});
