import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { SerialConsole } from "../../harness/board/console/serial-console.ts";
import { InfraError, TestFailure } from "../../harness/core/errors.ts";
import { positionAfter } from "../../harness/board/console/position.ts";
import { Peer, PtyPair, readLog, tempDir, waitFor } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
let pty: PtyPair;
let peer: Peer;
let con: SerialConsole;
let logFile: string;

function makeConsole(extra: Partial<ConstructorParameters<typeof SerialConsole>[0]> = {}): SerialConsole {
  return new SerialConsole({
    board: "dut",
    port: pty.host,
    baud: 115200,
    lineEnding: "\r\n",
    reconnectTimeoutMs: 5000,
    logFile,
    clockOrigin: performance.now(),
    ...extra,
  });
}

beforeEach(async () => {
  tmp = tempDir();
  logFile = join(tmp.dir, "run", "dut.log");
  pty = new PtyPair(tmp.dir);
  await pty.start();
  peer = await Peer.open(pty.device);
  con = makeConsole();
  await con.open();
});

afterEach(async () => {
  await con.close();
  await peer.close();
  await pty.stop();
  tmp.cleanup();
});

describe("SerialConsole on a PTY", () => {
  it("matches a line split across reads and returns named captures", async () => {
    const mark = con.mark();
    const waiting = con.expect(/slot=(?<slot>\w) version=(?<version>[\d.]+)/, { withinMs: 5000, since: mark });
    await peer.print("boot: slot=A ver");
    await new Promise((r) => setTimeout(r, 50));
    await peer.print("sion=1.0.0\r\n");
    const m = await waiting;
    expect(m.groups).toEqual({ slot: "A", version: "1.0.0" });
    expect(m.line.text).toBe("boot: slot=A version=1.0.0");
  });

  it("positionAfter a matched prompt: the prompt is consumed, the rest of its line is not", async () => {
    await peer.print("ota> ");
    const prompt = await con.expect(/ota> $/, { withinMs: 5000, since: "boot", partial: true });
    const after = positionAfter(prompt.line);
    await expect(con.expect(/ota> $/, { withinMs: 300, since: after, partial: true })).rejects.toBeInstanceOf(TestFailure);
    await peer.print("status\r\n");
    // The echo shares the prompt's line: it is seen, the prompt before it is not.
    const echo = await con.expect(/^status$/, { withinMs: 5000, since: after });
    expect(echo.line.text).toBe("ota> status");
    await con.expectNot(/ota>/, { forMs: 0, since: after });
    // A whole line, once matched, is behind the position after it.
    await expect(con.expect(/status/, { withinMs: 300, since: positionAfter(echo.line) })).rejects.toBeInstanceOf(TestFailure);
  });

  it("matches a prompt with no newline, and not again after the next mark", async () => {
    await peer.print("ready\r\nota> ");
    const first = await con.expect(/ota> $/, { withinMs: 5000, since: "boot", partial: true });
    expect(first.line.text).toBe("ota> ");
    // Next step: the same prompt must not match until the board prints a new one.
    const mark = con.mark();
    await con.send("status");
    await peer.waitReceived("status\r\n".length);
    await peer.print("status\r\nstate=idle\r\n");
    const stale = con.expect(/ota> $/, { withinMs: 300, since: mark, partial: true });
    await expect(stale).rejects.toBeInstanceOf(TestFailure);
    await peer.print("ota> ");
    const second = await con.expect(/ota> $/, { withinMs: 5000, since: mark, partial: true });
    expect(second.line.seq).toBeGreaterThan(first.line.seq);
  });

  it("strips ANSI escapes for matching and keeps them in the log", async () => {
    await peer.print("\x1b[0;32mI (42) app: version=1.1.0\x1b[0m\r\n");
    const m = await con.expect(/^I \(42\) app: version=1\.1\.0$/, { withinMs: 5000, since: "boot" });
    expect(m.line.text).toBe("I (42) app: version=1.1.0");
    await con.close();
    const log = readLog(logFile);
    expect(log).toContain("\x1b[0;32mI (42) app: version=1.1.0\x1b[0m");
    expect(log).toMatch(/^\[\s+\d+\.\d{3}\] \x1b\[0;32mI \(42\)/m);
  });

  it("expectNot fails when the pattern appears, passes when it does not", async () => {
    const mark = con.mark();
    const watch = con.expectNot(/panic/, { forMs: 3000, since: mark }).catch((e: unknown) => e);
    await peer.print("all good\r\nGuru Meditation: panic'ed\r\n");
    const err = await watch;
    expect(err).toBeInstanceOf(TestFailure);
    expect((err as Error).message).toMatch(/must not appear.*panic'ed/);
    await expect(con.expectNot(/rollback/, { forMs: 200 })).resolves.toBeUndefined();
  });

  it("sees only output since the step's mark unless since: boot", async () => {
    await peer.print("version=1.0.0\r\n");
    await con.expect(/version=1\.0\.0/, { withinMs: 5000, since: "boot" });
    const mark = con.mark();
    await expect(con.expect(/version=1\.0\.0/, { withinMs: 300, since: mark })).rejects.toBeInstanceOf(TestFailure);
    await expect(con.expect(/version=1\.0\.0/, { withinMs: 300, since: "boot" })).resolves.toBeTruthy();
    await peer.print("version=1.1.0\r\n");
    await expect(con.expect(/version=1\.1\.0/, { withinMs: 5000, since: mark })).resolves.toBeTruthy();
  });

  it("says what it awaited, for how long, and shows the last lines on timeout", async () => {
    await peer.print(Array.from({ length: 15 }, (_, i) => `line ${i}\r\n`).join(""));
    await waitFor(() => con.tail(1)[0] === "line 14", 5000, "lines captured");
    const err = await con
      .expect(/update available/, { withinMs: 200, description: "device.check: update_available" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestFailure);
    const msg = (err as Error).message;
    expect(msg).toContain("/update available/");
    expect(msg).toContain("device.check: update_available");
    expect(msg).toMatch(/timed out after \d+ms/);
    expect(msg).toContain("line 14");
    expect(msg).toContain("line 5");
    expect(msg).not.toContain("line 4\n");
    expect((err as TestFailure).consoleTail).toHaveLength(15);
  });

  it("settle waits for quiet, and fails on a console that keeps talking", async () => {
    await expect(con.settle(100, 2000)).resolves.toBeUndefined();
    const chatter = setInterval(() => void peer.print("tick\r\n"), 20);
    try {
      await expect(con.settle(500, 400)).rejects.toThrow(/did not go quiet/);
    } finally {
      clearInterval(chatter);
    }
  });

  it("reports lines to onLine listeners and sends with the line ending", async () => {
    const seen: string[] = [];
    const off = con.onLine((l) => seen.push(l.text));
    await peer.print("a\r\nb\n");
    await waitFor(() => seen.length === 2, 5000, "two lines");
    off();
    expect(seen).toEqual(["a", "b"]);
    await con.send("reboot", { charDelayMs: 2 });
    expect((await peer.waitReceived(8)).toString()).toBe("reboot\r\n");
  });

  it("reconnects when the port vanishes and comes back, marking the gap", async () => {
    const gaps: string[] = [];
    con.onGap((m) => gaps.push(m));
    await peer.print("before the gap\r\n");
    await con.expect(/before the gap/, { withinMs: 5000, since: "boot" });
    await peer.close();
    await pty.stop();
    await waitFor(() => con.state === "away", 5000, "console to notice the loss");
    // A write while the port is away waits for it.
    const write = con.send("hello again");
    await new Promise((r) => setTimeout(r, 300));
    await pty.start();
    peer = await Peer.open(pty.device);
    await waitFor(() => con.state === "open", 5000, "console to come back");
    await write;
    expect((await peer.waitReceived(13)).toString()).toBe("hello again\r\n");
    const mark = con.mark();
    await peer.print("after the gap\r\n");
    await expect(con.expect(/after the gap/, { withinMs: 5000, since: mark })).resolves.toBeTruthy();
    await con.close();
    const log = readLog(logFile);
    expect(log).toMatch(/before the gap\n.*--- console lost: .* ---\n.*--- console back after [\d.]+m?s ---\n(.*\n)*.*after the gap/);
    expect(gaps.some((g) => g.includes("console lost"))).toBe(true);
    expect(gaps.some((g) => g.includes("console back"))).toBe(true);
  });

  it("reconnects after socat is killed with SIGKILL (dangling links)", async () => {
    await peer.close();
    await pty.stop("SIGKILL");
    await waitFor(() => con.state === "away", 5000, "console to notice the loss");
    await pty.start();
    peer = await Peer.open(pty.device);
    await waitFor(() => con.state === "open", 5000, "console to come back");
    const mark = con.mark();
    await peer.print("rst:0x1 (POWERON_RESET)\r\nslot=B version=1.1.0\r\n");
    await expect(con.expect(/slot=B version=1\.1\.0/, { withinMs: 5000, since: mark })).resolves.toBeTruthy();
  });

  it("turns waits into InfraError when the port does not come back", async () => {
    await con.close();
    con = makeConsole({ reconnectTimeoutMs: 300 });
    await con.open();
    const waiting = con.expect(/never/, { withinMs: 10_000 }).catch((e: unknown) => e);
    await peer.close();
    await pty.stop();
    expect(await waiting).toBeInstanceOf(InfraError);
    await expect(con.expect(/never/, { withinMs: 10_000 })).rejects.toBeInstanceOf(InfraError);
    await expect(con.send("x")).rejects.toThrow(/away/);
    await pty.start(); // for afterEach
    peer = await Peer.open(pty.device);
  });
});

describe("SerialConsole open", () => {
  it("names a missing port in an InfraError", async () => {
    const c = new SerialConsole({
      board: "dut",
      port: "/dev/serial/by-id/does-not-exist",
      baud: 115200,
      lineEnding: "\n",
      reconnectTimeoutMs: 1000,
      logFile: "/tmp/unused.log",
      clockOrigin: performance.now(),
    });
    const err = await c.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain("/dev/serial/by-id/does-not-exist");
  });
});
