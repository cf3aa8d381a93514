import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { EventBus } from "../../harness/core/events.ts";
import { TerminalReporter } from "../../harness/report/terminal.ts";
import type { RunResult } from "../../harness/report/result.ts";

function capture(tty: boolean, showConsole = false) {
  const out = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = "";
  (out as unknown as PassThrough).on("data", (c: Buffer) => (text += c.toString()));
  const reporter = new TerminalReporter({ out, tty, color: false, showConsole });
  const bus = new EventBus();
  bus.subscribe(reporter.listener);
  return { bus, reporter, text: () => text };
}

describe("terminal reporter", () => {
  it("appends plain lines when not a TTY (no cursor control in CI logs)", () => {
    const { bus, text } = capture(false);
    bus.emit({ type: "step.start", path: "1", name: "flash", label: "flash dut app.bin" });
    bus.emit({ type: "step.end", path: "1", name: "flash", label: "flash dut app.bin", status: "passed", durationMs: 1234 });
    expect(text()).toMatch(/… 1 flash dut app\.bin\n/);
    expect(text()).toMatch(/✓ 1 flash dut app\.bin 1\.2s\n/);
    expect(text()).not.toContain("\x1b[");
  });

  it("shows the error of a failed step under it", () => {
    const { bus, text } = capture(false);
    bus.emit({
      type: "step.end",
      path: "4",
      name: "expect",
      label: "expect dut /x/",
      status: "failed",
      durationMs: 10,
      error: { failureClass: "test", message: "did not see /x/\nlast lines: boot" },
    });
    expect(text()).toMatch(/✗ 4 expect dut \/x\//);
    expect(text()).toMatch(/ {11}did not see \/x\/\n {11}last lines: boot\n/);
  });

  it("prints console lines only when asked to", () => {
    const quiet = capture(false);
    quiet.bus.emit({ type: "console.line", board: "dut", text: "hello" });
    expect(quiet.text()).toBe("");
    const loud = capture(false, true);
    loud.bus.emit({ type: "console.line", board: "dut", text: "hello" });
    expect(loud.text()).toMatch(/dut │ hello\n/);
  });

  it("throttles download progress to a line per quarter when not a TTY", () => {
    const { bus, text } = capture(false);
    for (let p = 0; p <= 100; p += 5) bus.emit({ type: "progress", path: "9", message: `download ${p}%`, fraction: p / 100 });
    expect(text().match(/download/g)).toHaveLength(5); // 0, 25, 50, 75, 100
  });

  it("a failure's message keeps its lines in the summary; a board's escapes in it are dropped", () => {
    const { reporter, text } = capture(false);
    const result = { scenario: "s", status: "failed", failureClass: "test", failedStep: "3", durationMs: 1, runDir: "/tmp/r" };
    reporter.summary([{ ...result, message: "timed out\n  | boot\x1b]0;pwned\x07 ok\n  | ota> " } as unknown as RunResult]);
    expect(text()).toContain("timed out\n  | boot ok\n  | ota> \n");
  });

  it("redraws the running step in place on a TTY", () => {
    const { bus, text } = capture(true);
    bus.emit({ type: "step.start", path: "2", name: "wait", label: "wait 1s" });
    expect(text()).toContain("\r\x1b[2K");
    expect(text()).toContain("⟳ 2 wait 1s");
    bus.emit({ type: "step.end", path: "2", name: "wait", label: "wait 1s", status: "passed", durationMs: 1000 });
    expect(text()).toMatch(/✓ 2 wait 1s 1\.0s\n$/);
  });
});
