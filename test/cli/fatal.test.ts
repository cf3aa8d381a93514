// Fatal console patterns through the CLI, on the virtual rig: a board that panics fails the
// running step at once (here a 30 s `wait`), as a test failure whose message, result.json,
// junit.xml and report.html carry the banner; a crash a scenario declares expected does not fail it.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FIXTURES, readJson, rig, tempDir } from "./helpers.ts";

const dirs: string[] = [];
const out = () => {
  const d = tempDir("otarig-fatal-");
  dirs.push(d);
  return d;
};
/** Board locks of its own: another run of the shipped rig elsewhere on this machine cannot make it wait. */
const ownCache = () => ({ env: { XDG_CACHE_HOME: out() } });
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("fatal console patterns", () => {
  it("a panic during a wait fails that step at once, as a test failure with the banner and the lines before it", async () => {
    const dir = out();
    const r = await rig(["scenarios/failing/panic-during-wait.yaml", "--server", "process", "--out", dir], ownCache());
    expect(r.exitCode, r.all).toBe(1);
    const result = readJson(join(dir, "result.json"));
    const wait = result.steps.find((s: { path: string }) => s.path === "5");
    expect(wait.name).toBe("wait");
    expect(wait.status).toBe("failed");
    expect(wait.durationMs).toBeLessThan(30_000); // it did not sleep its 30 s out
    expect(result.steps.find((s: { path: string }) => s.path === "6")).toBeUndefined(); // nothing ran after it
    const message: string = wait.error.message;
    expect(message).toContain(`board dut printed a fatal line (/Guru Meditation Error/): "ota> Guru Meditation Error: Core  0 panic'ed (LoadProhibited)`);
    expect(message).toMatch(/the lines before it:\n(.*\n)*\s+\| ota> crash panic 300/);
    expect(wait.error.failureClass).toBe("test");
    for (const f of ["junit.xml", "report.html"]) expect(readFileSync(join(dir, f), "utf8")).toContain("Guru Meditation Error: Core  0 panic'ed");
    expect(r.all).toContain("Guru Meditation Error");
  }, 150_000);

  it("a crash the scenario declares expected does not fail it; the board's reset is seen", async () => {
    const dir = out();
    const r = await rig(["scenarios/crash-expected.yaml", "--server", "process", "--out", dir], ownCache());
    expect(r.exitCode, r.all).toBe(0);
    expect(readFileSync(join(dir, "run.log"), "utf8")).toContain("expected fatal line: E (15000) task_wdt: Task watchdog got triggered");
  }, 150_000);

  it("a scenario adds its own fatal pattern; it fails a settle step the moment the board prints it", async () => {
    const dir = out();
    const r = await rig([join(FIXTURES, "fatal-added.yaml"), "--out", dir], ownCache());
    expect(r.exitCode, r.all).toBe(1);
    const result = readJson(join(dir, "result.json"));
    // The board answers a moment after the send: that step or the settle after it fails (not the settle's 30 s later).
    const failed = result.steps.find((s: { status: string }) => s.status === "failed");
    expect(["console.send", "settle"]).toContain(failed.name);
    expect(failed.durationMs).toBeLessThan(30_000);
    expect(failed.error.message).toContain(`printed a fatal line (/error: unknown command 'frobnicate'/)`);
    expect(failed.error.message).toMatch(/lines before it:\n(.*\n)*.*\| status slot=A version=1\.0\.0/);
  }, 150_000);

  it("a rig board's fatal pattern that is not a valid regex is a file:line:col error", async () => {
    const dir = out();
    const rigFile = join(dir, "bad.rig.yaml");
    writeFileSync(
      rigFile,
      `name: bad\nboards:\n  dut:\n    serial_number: X-1\n    profile: ${join(process.cwd(), "fixtures/profiles/virtual-board.yaml")}\n    virtual: {}\n    fatal: ["ok", "(unclosed"]\n`,
    );
    const r = await rig(["validate", rigFile]);
    expect(r.exitCode).toBe(2);
    expect(r.all).toMatch(new RegExp(`${rigFile.replace(/[.]/g, "\\.")}:7:\\d+: fatal\\[1\\]: not a valid regular expression`));
  }, 150_000);
});
