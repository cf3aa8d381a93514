// A console exported over the network by a real ser2net (RFC 2217 and raw TCP): the same capture,
// expect, log and reconnect behaviour as a local port, and every byte value unaltered both ways.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SerialConsole } from "../../harness/board/console/serial-console.ts";
import { InfraError } from "../../harness/core/errors.ts";
import { Peer, PtyPair, tempDir, waitFor } from "./helpers/pty.ts";
import { freePort, Ser2net, type Ser2netMode } from "./helpers/ser2net.ts";

let tmp: ReturnType<typeof tempDir>;
let pty: PtyPair;
let peer: Peer;
let ser2net: Ser2net | undefined;
let con: SerialConsole | undefined;
let logFile: string;

function makeConsole(port: string, baud = 115200): SerialConsole {
  return new SerialConsole({
    board: "dut",
    port,
    baud,
    lineEnding: "\n",
    reconnectTimeoutMs: 8000,
    logFile,
    clockOrigin: performance.now(),
  });
}

beforeEach(async () => {
  tmp = tempDir("otarig-netcon-");
  logFile = join(tmp.dir, "run", "dut.log");
  pty = new PtyPair(tmp.dir);
  await pty.start();
  peer = await Peer.open(pty.device);
});

afterEach(async () => {
  await con?.close();
  con = undefined;
  await ser2net?.stop();
  ser2net = undefined;
  await peer.close();
  await pty.stop();
  tmp.cleanup();
});

async function exported(mode: Ser2netMode): Promise<Ser2net> {
  ser2net = new Ser2net(tmp.dir, pty.host, mode, await freePort());
  await ser2net.start();
  return ser2net;
}

/**
 * ser2net opens (and flushes) the device when a client connects, a moment after the TCP
 * connection is up: bytes the board prints before that are lost, as on a UART nobody listens
 * to. A byte from the console reaching the board proves the path is open end to end.
 */
async function linkUp(c: SerialConsole): Promise<void> {
  peer.received = Buffer.alloc(0);
  await c.write("\n");
  await peer.waitReceived(1);
  peer.received = Buffer.alloc(0);
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
/** Every byte value but the line terminators, as one line: the log keeps a line's bytes as they came. */
const LINE_BYTES = Buffer.from([...ALL_BYTES].filter((b) => b !== 0x0a && b !== 0x0d));

/** Log lines without their time stamps, as bytes. */
function logLines(): Buffer[] {
  const log = readFileSync(logFile);
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = log.indexOf(0x0a); i >= 0; start = i + 1, i = log.indexOf(0x0a, start)) lines.push(log.subarray(start + 12, i));
  return lines;
}

for (const mode of ["rfc2217", "tcp"] as const) {
  describe(`network console over ser2net (${mode})`, () => {
    it("passes every byte value 0x00-0xff unchanged both ways, and logs a line's bytes as sent", async () => {
      const server = await exported(mode);
      con = makeConsole(server.url);
      await con.open();
      await linkUp(con);
      let received = Buffer.alloc(0);
      con.onData((chunk) => (received = Buffer.concat([received, chunk])));

      await peer.print(ALL_BYTES);
      await waitFor(() => received.length >= 256, 5000, "256 bytes from the board");
      expect(received.equals(ALL_BYTES)).toBe(true);

      await con.write(ALL_BYTES);
      expect((await peer.waitReceived(256)).equals(ALL_BYTES)).toBe(true);

      await peer.print(Buffer.concat([Buffer.from("\n"), LINE_BYTES, Buffer.from("\nend\n")]));
      await con.expect(/^end$/, { withinMs: 5000, since: "boot" });
      await con.close();
      con = undefined;
      expect(logLines().some((l) => l.equals(LINE_BYTES))).toBe(true);
    });

    it("marks the gap when ser2net restarts, reconnects, and captures and expects again", async () => {
      const server = await exported(mode);
      con = makeConsole(server.url);
      await con.open();
      const gaps: string[] = [];
      con.onGap((m) => gaps.push(m));
      await linkUp(con);
      await peer.print("before restart\n");
      await con.expect(/before restart/, { withinMs: 5000, since: "boot" });

      await server.stop();
      await waitFor(() => con!.state === "away", 5000, "the console to notice ser2net stopped");
      await server.start();
      await waitFor(() => con!.state === "open", 8000, "the console to reconnect");
      await linkUp(con);
      const mark = con.mark();
      await peer.print("after restart\n");
      await con.expect(/after restart/, { withinMs: 5000, since: mark });
      await con.send("typed after");
      expect((await peer.waitReceived("typed after\n".length)).toString()).toBe("typed after\n");

      await con.close();
      con = undefined;
      expect(gaps[0]).toMatch(new RegExp(`console lost: ${mode}://127\\.0\\.0\\.1:\\d+ went away`));
      expect(gaps[1]).toMatch(/console back after/);
      const log = readFileSync(logFile, "utf8");
      expect(log.indexOf("before restart")).toBeLessThan(log.indexOf("console lost"));
      expect(log.indexOf("console back")).toBeLessThan(log.indexOf("after restart"));
    });
  });
}

describe("network console details", () => {
  it("sets the baud rate through RFC 2217 (ser2net applies it to the device)", async () => {
    const server = await exported("rfc2217");
    con = makeConsole(server.url, 57600);
    await con.open();
    // ser2net holds the device open while we are connected: its settings are what we asked for
    await waitFor(() => execFileSync("stty", ["-F", pty.host, "speed"]).toString().trim() === "57600", 5000, "the device at 57600 baud");
  });

  it("fails to open with an infrastructure error naming the URL when nothing listens", async () => {
    const url = `rfc2217://127.0.0.1:${await freePort()}`;
    const c = makeConsole(url);
    const err = await c.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain(`cannot open serial port ${url}`);
    expect((err as Error).message).toContain("ECONNREFUSED");
  });
});
