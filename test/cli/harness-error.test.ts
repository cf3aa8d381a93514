// A bug in otarig (an exception no code path meant to throw) is not lab trouble: exit 4, never
// retried, the stack in run.log, one line on the terminal. The CLI runs in this process so the
// test can break one step's implementation with a real TypeError.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCommand } from "../../harness/cli/run.ts";
import { STEP_IMPLS } from "../../harness/runner/steps/index.ts";
import { EXIT_CODES, failureClassOf } from "../../harness/core/errors.ts";
import { worstExitCode } from "../../harness/core/exit-code.ts";
import { FIXTURES, readJson, tempDir } from "./helpers.ts";

const realSet = STEP_IMPLS.set;
afterEach(() => {
  STEP_IMPLS.set = realSet;
  vi.restoreAllMocks();
});

/** Runs the CLI in-process; returns its exit code and what it wrote to stdout and stderr. */
async function runCli(args: string[]): Promise<{ code: number; printed: string }> {
  let printed = "";
  const capture = (chunk: string | Uint8Array) => {
    printed += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(process.stderr, "write").mockImplementation(capture as typeof process.stderr.write);
  try {
    return { code: await runCommand(args), printed };
  } finally {
    vi.restoreAllMocks();
  }
}

describe("a harness bug", () => {
  it("exits 4, is not retried, keeps the stack in run.log and says so in one line", async () => {
    STEP_IMPLS.set = async (ctx) => {
      const missing = (ctx as unknown as { nothing?: { here: string } }).nothing;
      return { detail: missing!.here };
    };
    const out = tempDir();
    const { code, printed } = await runCli([join(FIXTURES, "harness-bug.yaml"), "--retries", "2", "--no-color", "--out", out]);
    expect(code, printed).toBe(EXIT_CODES.harness);

    const result = readJson(join(out, "result.json"));
    expect(result.failureClass).toBe("harness");
    expect(result.attempts).toHaveLength(1);
    expect(result.message).toMatch(/^otarig internal error .*please report it.*TypeError: Cannot read properties of undefined \(reading 'here'\)/);

    const runLog = readFileSync(join(out, "run.log"), "utf8");
    expect(runLog).not.toMatch(/retry/);
    expect(runLog).toMatch(/TypeError: Cannot read properties of undefined[^\n]*\n(\s+at [^\n]+\n)+/);
    expect(runLog).toMatch(/harness-error\.test\.ts/); // the frame of the broken step

    expect(printed).toMatch(/otarig internal error .*please report it.*\(stack in .*run\.log\)/);
    expect(printed).toContain(join(out, "run.log"));
    expect(printed).not.toMatch(/^\s+at .*\.[cm]?[jt]s:\d+:\d+\)?$/m); // no stack frame (the step's `at file.yaml:8:5` is not one)
  });

  it("is told apart from the lab's trouble: system errors and failed fetches stay infrastructure", () => {
    expect(failureClassOf(new TypeError("x is not a function"))).toBe("harness");
    expect(failureClassOf(new RangeError("Invalid array length"))).toBe("harness");
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(failureClassOf(new TypeError("fetch failed", { cause: refused }))).toBe("infrastructure");
    expect(failureClassOf(Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }))).toBe("infrastructure");
    expect(failureClassOf(new Error("Port is not open"))).toBe("infrastructure");
  });

  it("ranks above every class but an interruption in a suite's exit code", () => {
    expect(worstExitCode([1, 3, 4, 2])).toBe(4);
    expect(worstExitCode([4, 130])).toBe(130);
  });
});
