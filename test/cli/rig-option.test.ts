// `rig run --rig FILE`: a scenario runs on another rig whose boards carry the same names and
// profiles; anything else is refused before anything runs.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, readJson, rig, tempDir } from "./helpers.ts";

const dir = tempDir("otarig-rig-option-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** rigs/virtual.yaml under another name, board serial and lock dir, with its own copy of the profile. */
function otherRig(changes: { profile?: string; board?: string } = {}): string {
  const sub = mkdtempSync(join(dir, "rig-"));
  mkdirSync(join(sub, "profiles"));
  copyFileSync(join(ROOT, "fixtures/profiles/virtual-board.yaml"), join(sub, "profiles/virtual-board.yaml"));
  const text = readFileSync(join(ROOT, "rigs/virtual.yaml"), "utf8")
    .replace("../fixtures/profiles/virtual-board.yaml", changes.profile ?? "profiles/virtual-board.yaml")
    .replace(/^name: virtual$/m, "name: other-bench")
    .replace(/^  dut:$/m, `  ${changes.board ?? "dut"}:`)
    .replace("VB-0001", "VB-OTHER-7");
  const file = join(sub, "rig.yaml");
  writeFileSync(file, `${text}lock_dir: ./locks\n`);
  return file;
}

describe("rig run --rig", () => {
  it("runs the happy path on the other rig (its board serial reaches the server), with a copy of the same profile", async () => {
    const out = join(dir, "pass");
    const r = await rig(["scenarios/ota-happy-path.yaml", "--rig", otherRig(), "--server", "process", "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    const result = JSON.stringify(readJson(join(out, "result.json")));
    expect(result).toContain("VB-OTHER-7: success"); // assert.deployment saw the other rig's serial
    expect(result).not.toContain("VB-0001");
  });

  it("exits 2 at the scenario's boards entry when the other rig lacks a board, for every scenario of a directory, running nothing", async () => {
    const out = join(dir, "missing");
    const file = otherRig({ board: "dut2" });
    const r = await rig(["scenarios/", "--rig", file, "--out", out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toMatch(/^scenarios\/ota-happy-path\.yaml:6:10: board "dut" is not in --rig other-bench .*did you mean "dut2"/m);
    expect(r.stderr).toMatch(/^scenarios\/fleet-rollout\.yaml:\d+:\d+: board "b1" is not in --rig other-bench/m);
    expect(r.stderr).toMatch(/nothing was run/);
    // nothing ran: the suite's reports say why, and there is no run directory
    expect(readdirSync(out).sort()).toEqual(["junit.xml", "report.html"]);
  });

  it("exits 2 at the other rig's profile line when the board runs another firmware", async () => {
    const out = join(dir, "mismatch");
    const file = otherRig({ profile: join(ROOT, "fixtures/profiles/esp-idf-ota.yaml") });
    const r = await rig(["scenarios/ota-happy-path.yaml", "--rig", file, "--out", out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain(`${file}:9:14: board "dut" has profile fixtures/profiles/esp-idf-ota.yaml, but scenario scenarios/ota-happy-path.yaml was written for fixtures/profiles/virtual-board.yaml`);
    expect(existsSync(out)).toBe(false);
  });

  it("exits 2 at the other rig's profile line when that profile does not exist", async () => {
    const file = otherRig({ profile: "profiles/nope.yaml" });
    const r = await rig(["scenarios/ota-happy-path.yaml", "--rig", file]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain(`${file}:9:14: profile of board "dut" is missing or invalid: `);
  });

  it("exits 2 once (not per scenario) for a --rig file that does not exist", async () => {
    const r = await rig(["scenarios/", "--rig", join(dir, "nope.yaml")]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.match(/--rig: file not found/g)).toHaveLength(1);
  });
});
