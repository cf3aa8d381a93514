import { describe, expect, it } from "vitest";
import { renderHtml } from "../../harness/report/html.ts";
import type { RunResult } from "../../harness/report/result.ts";

const base: RunResult = {
  scenario: "ota-happy-path",
  file: "scenarios/ota-happy-path.yaml",
  runDir: "/runs/suite/ota-happy-path",
  boards: ["dut"],
  status: "passed",
  startedAt: "2026-11-23T00:00:00.000Z",
  durationMs: 2000,
  steps: [{ path: "1", name: "flash", label: "flash dut app-1.0.0.bin", status: "passed", startedMs: 0, durationMs: 300, detail: "app-1.0.0.bin" }],
  retries: [],
  consoleTail: { dut: ["boot: <slot A>"] },
};

describe("html report", () => {
  it("summarises every scenario and links each run's logs relative to the report", () => {
    const html = renderHtml([base, { ...base, scenario: "soak", runDir: "/runs/suite/soak" }], "/runs/suite");
    expect(html).toContain("<h1>otarig: 2 passed, 0 failed</h1>");
    expect(html).toContain('href="ota-happy-path/dut.log"');
    expect(html).toContain('href="soak/junit.xml"');
    expect(html).toContain("flash dut app-1.0.0.bin");
  });

  it("shows a failure's step, message and the board's last lines, escaped", () => {
    const failed: RunResult = {
      ...base,
      status: "failed",
      failureClass: "test",
      failedStep: "3",
      message: "timed out waiting for /version=<9>/",
      steps: [{ ...base.steps[0]!, status: "failed", error: { failureClass: "test", message: "no <match>" } }],
    };
    const html = renderHtml([failed], "/runs/suite/ota-happy-path");
    expect(html).toContain("<h1>otarig: 0 passed, 1 failed</h1>");
    expect(html).toContain("FAILED</span>");
    expect(html).toContain("in step 3: timed out waiting for /version=&lt;9&gt;/");
    expect(html).toContain("<pre>no &lt;match&gt;</pre>");
    expect(html).toContain("boot: &lt;slot A&gt;");
    expect(html).not.toContain("<slot A>");
  });
});
