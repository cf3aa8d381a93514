// The harness side of a virtual board: socat detection, and no stray processes after a crash.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { InfraError } from "../../harness/core/errors.ts";
import { requireSocat, startVirtualBoard } from "../../harness/board/virtual/virtual-board.ts";
import { ROOT } from "./helpers.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "otarig-bench-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Processes whose command line mentions `text`. */
function processesMentioning(text: string): string[] {
  const ps = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return ps.split("\n").filter((l) => l.includes(text) && !l.includes("ps -eo"));
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("virtual bench", () => {
  it("names the install command when socat is missing", async () => {
    const path = process.env.PATH;
    process.env.PATH = tempDir();
    try {
      expect(() => requireSocat()).toThrow(InfraError);
      expect(() => requireSocat()).toThrow("sudo apt-get install socat");
      await expect(startVirtualBoard({ name: "dut", serialNumber: "X", workDir: tempDir() })).rejects.toThrow("sudo apt-get install socat");
    } finally {
      process.env.PATH = path;
    }
    expect(requireSocat()).toMatch(/socat$/);
  });

  it("copes with a work dir whose path has socat's separators in it", async () => {
    const workDir = join(tempDir(), "run 2025-01-01T10:00:00Z, odd!(name)");
    const board = await startVirtualBoard({ name: "dut", serialNumber: "VB-ODD", workDir });
    try {
      expect(board.consolePort).toBe(join(workDir, "console"));
      expect(existsSync(board.consolePort) && existsSync(board.devicePort)).toBe(true);
    } finally {
      await board.stop();
    }
    expect(existsSync(board.consolePort)).toBe(false);
  });

  it("stop() leaves no board or socat process", async () => {
    const workDir = tempDir();
    const board = await startVirtualBoard({ name: "dut", serialNumber: "VB-STOP", workDir });
    await board.power.on();
    expect(processesMentioning(workDir).length).toBeGreaterThanOrEqual(2);
    await board.stop();
    await waitFor(() => processesMentioning(workDir).length === 0, "no process mentioning the work dir");
  });

  it("a harness killed with SIGKILL leaves no board or socat process behind", async () => {
    const workDir = tempDir();
    const harness = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/devices/programs/hold-board.ts"), workDir], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("hold-board did not get ready within 15 s")), 15_000);
      createInterface({ input: harness.stdout! }).on("line", (line) => {
        if (line === "ready") {
          clearTimeout(timer);
          ok();
        }
      });
    });
    await waitFor(() => processesMentioning(`${workDir}/`).some((l) => /board[/-]main/.test(l)), "the board process"); // main.ts, or its compiled bundle
    expect(processesMentioning(workDir).some((l) => l.includes("socat"))).toBe(true);
    harness.kill("SIGKILL");
    await waitFor(() => processesMentioning(workDir).length === 0, "the board and socat to exit after the harness died");
  });
});
