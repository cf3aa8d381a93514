// --pause-on-failure as a user meets it, on the virtual rig: `rig run` in a real pseudo-terminal
// (util-linux `script`) fails a step and holds the run; `rig attach` types a command into the
// held board and sees its answer, power-cycles it and sees it boot; `rig resume` lets the run go
// on to teardown and reports; nothing is left (no socket, no secret file, no process). In CI
// (stdin not a terminal) the flag is refused; attaching to a run that is not held is exit 2.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { FIXTURES, ROOT, processesMentioning, readJson, rig, tempDir, waitForOutput } from "./helpers.ts";

const SCENARIO = join(FIXTURES, "pause-on-failure.yaml");
const BANNER = /boot: slot=A version=1\.0\.0 sha256=[0-9a-f]{64}/;
const STATUS = /status slot=A version=1\.0\.0 sha256=[0-9a-f]{64}/;

const dirs: string[] = [];
const out = () => {
  const d = tempDir("otarig-held-");
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `rig …` with a pseudo-terminal as its stdin and stdout, as in a person's shell. */
function rigInTerminal(args: string[], env: Record<string, string>) {
  const command = [process.execPath, "--import", "tsx", join(ROOT, "harness/cli/main.ts"), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const child = execa("script", ["-qfec", command, "/dev/null"], { cwd: ROOT, reject: false, all: true, timeout: 150_000, env: { NO_COLOR: "1", ...env } });
  let screen = "";
  child.all!.on("data", (chunk: Buffer) => void (screen += chunk.toString()));
  const waitFor = (re: RegExp, what: string, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (re.test(screen)) {
          clearInterval(timer);
          resolve();
        } else if (Date.now() - started > timeoutMs) {
          clearInterval(timer);
          reject(new Error(`no ${what} on the holding terminal within ${timeoutMs / 1000}s:\n${screen.slice(-3000)}`));
        }
      }, 50);
    });
  return { child, waitFor, screen: () => screen };
}

describe("rig run --pause-on-failure", () => {
  it("holds a failed run: attach, type status, see the answer, power-cycle, resume; reports written, nothing left", async () => {
    const dir = out();
    const env = { XDG_CACHE_HOME: out() };
    const held = rigInTerminal([SCENARIO, "--pause-on-failure", "--out", dir], env);
    await held.waitFor(/go on: +Enter or Ctrl-C here/, "hold instructions");
    const screen = held.screen();
    expect(screen).toContain(`held after step 4 failed`);
    expect(screen).toContain(`rig attach ${dir} dut`);
    expect(screen).toMatch(/server: +http:\/\/127\.0\.0\.1:\d+/);
    expect(screen).toMatch(new RegExp(`sign in with key id OTARIG[0-9A-F]+ and the secret in ${join(dir, "portal-secret")}`));

    // The socket and the portal secret: this user's only.
    const socket = join(dir, "attach.sock");
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "portal-secret")).mode & 0o777).toBe(0o600);
    expect(screen).not.toContain(readFileSync(join(dir, "portal-secret"), "utf8").trim()); // never on the terminal

    // A console on the held board: the command typed, the board's answer back.
    const attach = rig(["attach", dir, "dut"], { env });
    attach.stdin!.end("status\n");
    const a = await attach;
    expect(a.exitCode, a.all).toBe(0);
    expect(a.stdout).toMatch(STATUS);

    // The same on a terminal: raw keys through the held run, Ctrl-] leaves.
    const tty = rigInTerminal(["attach", dir, "dut"], env);
    await tty.waitFor(/Ctrl-\] leaves/, "the attached console's greeting", 30_000);
    tty.child.stdin!.write("status\r"); // Enter on a raw terminal is CR
    await tty.waitFor(STATUS, "the board's answer on the attached terminal", 30_000);
    tty.child.stdin!.write("\x1d");
    expect((await tty.child).exitCode, tty.screen()).toBe(0);

    // The console capture goes on while held: the answer is in the run's own log.
    expect(readFileSync(join(dir, "dut.log"), "utf8")).toMatch(STATUS);

    // A power cycle through the held run: the board boots again, shown by attach and in the log.
    const bootsBefore = readFileSync(join(dir, "dut.log"), "utf8").match(new RegExp(BANNER.source, "g"))!.length;
    const cycle = await rig(["attach", dir, "dut", "--power", "cycle"], { env });
    expect(cycle.exitCode, cycle.all).toBe(0);
    expect(cycle.stderr).toContain("power cycle done");
    expect(cycle.stdout).toMatch(BANNER);
    expect(readFileSync(join(dir, "dut.log"), "utf8").match(new RegExp(BANNER.source, "g"))!.length).toBe(bootsBefore + 1);

    // Bad input while held: a board it does not have.
    const wrong = await rig(["attach", dir, "dutt"], { env });
    expect(wrong.exitCode, wrong.all).toBe(2);
    expect(wrong.stderr).toContain(`this run holds no board "dutt", did you mean "dut"? (it holds: dut)`);

    // An attached console left open when the run resumes is told, and ends.
    const lingering = rig(["attach", dir, "dut"], { env });
    lingering.stdin!.write("status\n");
    await waitForOutput(lingering, STATUS, "the lingering console's answer", 30_000);

    const resume = await rig(["resume", dir], { env });
    expect(resume.exitCode, resume.all).toBe(0);
    const r = await held.child;
    expect(r.exitCode, r.all).toBe(1); // the verdict is the failure's, not "interrupted"
    const l = await lingering;
    expect(l.exitCode, l.all).toBe(0);
    expect(l.stderr).toContain("the run resumed (rig resume); tearing down");

    const result = readJson(join(dir, "result.json"));
    expect(result.status).toBe("failed");
    expect(result.failedStep).toBe("4");
    for (const f of ["junit.xml", "report.html"]) expect(existsSync(join(dir, f))).toBe(true);
    const events = readFileSync(join(dir, "events.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const pause = events.find((e) => e.type === "pause");
    const resumed = events.find((e) => e.type === "resume");
    expect(pause).toMatchObject({ step: "4", boards: ["dut"] });
    expect(resumed).toMatchObject({ by: "rig resume" });
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("held for rig attach");

    // Nothing left behind: no socket, no secret file, no process of the run.
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(dir, "portal-secret"))).toBe(false);
    expect(await processesMentioning(dir)).toEqual([]);
  }, 180_000);

  it("Enter in the holding terminal goes on to teardown and reports", async () => {
    const dir = out();
    const held = rigInTerminal([SCENARIO, "--pause-on-failure", "--out", dir], { XDG_CACHE_HOME: out() });
    await held.waitFor(/go on: +Enter or Ctrl-C here/, "hold instructions");
    held.child.stdin!.write("\r");
    const r = await held.child;
    expect(r.exitCode, r.all).toBe(1);
    const events = readFileSync(join(dir, "events.jsonl"), "utf8");
    expect(events).toContain(`"type":"resume","by":"terminal"`);
    expect(existsSync(join(dir, "attach.sock"))).toBe(false);
    expect(await processesMentioning(dir)).toEqual([]);
  }, 180_000);

  it("is refused without a terminal (CI): exit 2, nothing run", async () => {
    const dir = out();
    const r = await rig([SCENARIO, "--pause-on-failure", "--out", dir]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain("--pause-on-failure holds a failed run open until you press Enter: it needs a terminal");
    expect(existsSync(join(dir, "result.json"))).toBe(false);
  });

  it("rig attach and rig resume on a run that is not held: exit 2, saying so", async () => {
    const dir = out();
    const a = await rig(["attach", dir, "dut"]);
    expect(a.exitCode, a.all).toBe(2);
    expect(a.stderr).toContain(`${dir} is not a held run: it has no attach.sock`);
    const r = await rig(["resume", dir]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain(`${dir} is not a held run`);
    const none = await rig(["attach", join(dir, "nope"), "dut"]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain(`no run directory ${join(dir, "nope")}`);
  });
});
