import { describe, expect, it } from "vitest";
import { renderJunit } from "../../harness/report/junit.ts";
import type { RunResult } from "../../harness/report/result.ts";

function result(overrides: Partial<RunResult>): RunResult {
  return {
    scenario: "ota-happy-path",
    file: "scenarios/ota-happy-path.yaml",
    runDir: "runs/x",
    boards: ["dut"],
    status: "passed",
    exitCode: 0,
    startedAt: "2026-11-23T00:00:00.000Z",
    durationMs: 1500,
    steps: [{ path: "1", name: "flash", label: "flash dut app.bin", status: "passed", startedMs: 0, durationMs: 10 }],
    retries: [],
    consoleTail: {},
    ...overrides,
  };
}

describe("junit", () => {
  it("writes one passing testcase per scenario", () => {
    const xml = renderJunit([result({}), result({ scenario: "second" })]);
    expect(xml).toMatch(/<testsuites name="otarig" tests="2" failures="0" errors="0"/);
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).not.toContain("<failure");
  });

  it("names the failing step and carries the board's last lines", () => {
    const failed = result({
      status: "failed",
      exitCode: 1,
      failureClass: "test",
      failedStep: "3",
      message: "step 3 timed out",
      steps: [
        {
          path: "3",
          name: "expect",
          label: "expect dut /never/",
          board: "dut",
          status: "failed",
          startedMs: 0,
          durationMs: 1000,
          error: { failureClass: "test", message: "timed out waiting for /never/", consoleTail: ["boot: <1.0.0>", "ota> ]]>"] },
        },
      ],
    });
    const xml = renderJunit([failed]);
    expect(xml).toMatch(/failures="1" errors="0"/);
    expect(xml).toMatch(/<failure message="step 3 \(expect dut \/never\/\) failed: step 3 timed out" type="test">/);
    expect(xml).toContain("boot: <1.0.0>"); // inside CDATA, unescaped
    expect(xml).toContain("ota> ]]]]><![CDATA[>"); // a CDATA terminator in board output is split, not broken
  });

  it("reports infrastructure and scenario problems as errors, not failures", () => {
    const xml = renderJunit([result({ status: "failed", exitCode: 3, failureClass: "infrastructure", message: "port /dev/nope missing" })]);
    expect(xml).toMatch(/failures="0" errors="1"/);
    expect(xml).toMatch(/<error message="port \/dev\/nope missing" type="infrastructure">/);
  });

  it("replaces control characters XML cannot hold", () => {
    const xml = renderJunit([result({ scenario: "bell\u0007name" })]);
    expect(xml).toContain('name="bell\uFFFDname"');
  });
});
