// A runtime failure points at the scenario (issue 23 item 4): the failed step's file:line:col in
// the terminal, the junit failure message and the report page's header; a timeout message names
// the pattern once and the board once.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJson, rig, ROOT, tempDir } from "./helpers.ts";

describe("a runtime failure names the step's position", () => {
  it("terminal, junit.xml, result.json and report.html give file:line:col; the timeout names pattern and board once", async () => {
    const dir = tempDir("otarig-at-");
    const file = join(dir, "never.yaml");
    writeFileSync(
      file,
      [
        "name: never",
        `rig: ${ROOT}/rigs/virtual.yaml`,
        "boards: [dut]",
        "steps:",
        `  - flash: { board: dut, image: ${ROOT}/fixtures/firmware/app-1.0.0.bin }`,
        "  - power: { board: dut, action: cycle, off: 200ms }",
        "  - expect: { board: dut, pattern: 'never (appears)', within: 1s }",
        "",
      ].join("\n"),
    );
    const out = join(dir, "run");
    const r = await rig([file, "--server", "process", "--out", out]);
    expect(r.exitCode, r.all).toBe(1);
    const at = `${file}:7:5`;

    // terminal: under the failed step, and in the summary
    expect(r.all).toContain(`           at ${at}\n`);
    expect(r.all).toContain(`never: test in step 3 at ${at}\n`);
    const timeout = r.all.split("\n").find((l) => l.startsWith("timed out after"))!;
    expect(timeout).toMatch(/^timed out after \S+ waiting for \/never \(appears\)\/ on board dut(; last \d+ lines:|; the board printed nothing)$/);
    expect(timeout.split("never (appears)")).toHaveLength(2);
    expect(timeout.split("dut")).toHaveLength(2);

    expect(readJson(join(out, "result.json"))).toMatchObject({ failedStep: "3", failedAt: at });
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toContain(`message="step 3 (expect dut /never (appears)/) at ${at} failed: timed out after`);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain(`at <code class="at">${at}</code>`);
  });
});
