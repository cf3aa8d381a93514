// The terminal is the user's (issue 18 item 10): what a board prints reaches it with its SGR
// colours and without any other control sequence (an OSC 52 clipboard write, a window title,
// clear screen, cursor moves, DCS strings, 8-bit C1 controls, lone control characters).
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { TerminalFilter, terminalSafe } from "../../harness/board/console/ansi.ts";
import { FIXTURES, ROOT, rig, tempDir, useOwnCacheDir } from "./helpers.ts";

/** One of each: what a hostile or merely chatty device may print. */
const HOSTILE = {
  osc52: "\x1b]52;c;c2VjcmV0\x07",
  title: "\x1b]0;pwned\x1b\\",
  clear: "\x1b[2J",
  cursor: "\x1b[10;5H",
  altScreen: "\x1b[?1049h",
  dcs: "\x1bPqdcs\x1b\\",
  c1Csi: "\u009b2K",
  bell: "\x07",
  backspace: "\b",
  nul: "\0",
};
const RED = "\x1b[1;31m";
const LINE = `${RED}red\x1b[0m ${Object.values(HOSTILE).join("")}tab\there done`;

function expectNoneOf(screen: string): void {
  expect(screen).toContain("here done");
  for (const [kind, seq] of Object.entries(HOSTILE)) expect(screen.includes(seq), `${kind} reached the terminal`).toBe(false);
  expect(screen).not.toContain("\x1b]");
  expect(screen).not.toContain("\x1bP");
  expect(screen).not.toContain("pwned");
  expect(screen).not.toContain("qdcs");
}

describe("terminalSafe", () => {
  it("keeps SGR and tab, removes every other sequence and control character", () => {
    expect(terminalSafe(LINE, { colors: true })).toBe(`${RED}red\x1b[0m tab\there done`);
    expect(terminalSafe(LINE, { colors: false })).toBe("red tab\there done");
    // A colour the device leaves on is turned off at the end of its text.
    expect(terminalSafe("\x1b[32mgreen", { colors: true })).toBe("\x1b[32mgreen\x1b[0m");
    // A sequence cut off at the end is dropped, not half-printed.
    expect(terminalSafe("ok\x1b]52;c;c2Vj", { colors: true })).toBe("ok");
  });

  it("as a stream: a sequence split between reads is recognised whole; lines and colours pass", () => {
    const filter = new TerminalFilter(true);
    const stream = `${LINE}\r\n`;
    let out = "";
    for (let i = 0; i < stream.length; i += 3) out += filter.push(Buffer.from(stream.slice(i, i + 3), "utf8"));
    expect(out).toBe(`${RED}red\x1b[0m tab\there done\r\n`);
  });
});

// Board commands lock the board in the cache dir: this file's own.
useOwnCacheDir();

describe("device escapes on the user's terminal (subprocess, virtual rig)", () => {
  it("rig run --console on a terminal: the board's colours pass, nothing else does", async () => {
    const out = tempDir();
    // util-linux `script` gives the run a pseudo-terminal: colours on, as for a user.
    const command = [process.execPath, "--import", "tsx", join(ROOT, "harness/cli/main.ts"), join(FIXTURES, "device-escapes.yaml"), "--console", "--out", out]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(" ");
    const env = { ...process.env, TERM: "xterm" } as Record<string, string>;
    delete env.NO_COLOR;
    const r = await execa("script", ["-qfec", command, "/dev/null"], { cwd: ROOT, reject: false, all: true, timeout: 120_000, env, extendEnv: false });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/dut │ .*\x1b\[1;31mred\x1b\[0m/); // the echo of the line, coloured
    expectNoneOf(r.stdout);
  });

  it("rig console: the board's answer reaches the screen without its escapes", async () => {
    const flash = await rig(["flash", "rigs/virtual.yaml", "dut", "fixtures/firmware/app-1.0.0.bin", "--out", tempDir()]);
    expect(flash.exitCode, flash.all).toBe(0);
    const child = rig(["console", "rigs/virtual.yaml", "dut", "--out", tempDir()]);
    child.stdin!.end(`${LINE}\n`);
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain("error: unknown command"); // the board did answer
    expectNoneOf(r.stdout);
  });
});
