// The LCUS relay emulator: its frame parser byte by byte, and the program on a real PTY pair
// wired to a virtual board's power.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LcusRelay, hexBytes, lcusFrame } from "../../devices/relay-lcus.ts";
import { startVirtualBoard, type VirtualBoard } from "../../harness/board/virtual/virtual-board.ts";
import { startVirtualRelay, type VirtualRelay } from "../../harness/board/virtual/relay.ts";
import { ConsoleReader, FIRMWARE, runFlasher } from "./helpers.ts";
import { ROOT } from "../cli/helpers.ts";

function recorder(channels = 2) {
  const events: string[] = [];
  const relay = new LcusRelay({
    channels,
    onSwitch: (ch, on) => events.push(`ch${ch}=${on ? "on" : "off"}`),
    onBadFrame: (bytes, reason) => events.push(`bad [${hexBytes(bytes)}] ${reason}`),
  });
  return { relay, events };
}

describe("LCUS frames", () => {
  it("are A0 <channel> <state> <sum>", () => {
    expect([...lcusFrame(1, true)]).toEqual([0xa0, 0x01, 0x01, 0xa2]);
    expect([...lcusFrame(1, false)]).toEqual([0xa0, 0x01, 0x00, 0xa1]);
    expect([...lcusFrame(2, true)]).toEqual([0xa0, 0x02, 0x01, 0xa3]);
    expect([...lcusFrame(4, false)]).toEqual([0xa0, 0x04, 0x00, 0xa4]);
  });

  it("switches channels on valid frames, also when split across reads", () => {
    const { relay, events } = recorder();
    relay.feed(Buffer.from([0xa0, 0x01]));
    relay.feed(Buffer.from([0x01, 0xa2, 0xa0, 0x02, 0x01]));
    relay.feed(Buffer.from([0xa3]));
    relay.feed(Buffer.from([0xa0, 0x01, 0x01, 0xa2])); // already on: no switch
    relay.feed(Buffer.from([0xa0, 0x01, 0x00, 0xa1]));
    expect(events).toEqual(["ch1=on", "ch2=on", "ch1=off"]);
    expect(relay.isOn(1)).toBe(false);
    expect(relay.isOn(2)).toBe(true);
  });

  it("ignores and reports bad frames, then resynchronises", () => {
    const { relay, events } = recorder();
    relay.feed(Buffer.from([0x55, 0x0d, 0x0a])); // noise
    relay.feed(Buffer.from([0xa0, 0x01, 0x01, 0xa3])); // bad sum
    relay.feed(Buffer.from([0xa0, 0x03, 0x01, 0xa4])); // no channel 3
    relay.feed(Buffer.from([0xa0, 0x01, 0x02, 0xa3])); // bad state
    relay.feed(Buffer.from([0xa0, 0x01, 0xa0, 0x02, 0x01, 0xa3])); // truncated frame, then a good one
    expect(events).toEqual([
      "bad [55 0d 0a] no frame start (0xA0)",
      "bad [a0 01 01 a3] bad checksum 0xa3, expected 0xa2",
      "bad [a0 03 01 a4] no channel 3 (module has 2)",
      "bad [a0 01 02 a3] bad state 2",
      "bad [a0 01] bad checksum 0x02, expected 0x41",
      "ch2=on",
    ]);
  });
});

describe("the emulator program", () => {
  it("runs when started through a symlink (a node_modules that is a link, as in a git worktree)", () => {
    const dir = mkdtempSync(join(tmpdir(), "otarig-relay-link-"));
    try {
      const link = join(dir, "relay-lcus.ts");
      symlinkSync(join(ROOT, "devices", "relay-lcus.ts"), link);
      // A port that cannot open: the program says so and exits 1; one that does not run at all exits 0 in silence.
      const r = spawnSync(process.execPath, ["--import", "tsx", link, "--tty", join(dir, "no-such-tty")], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
      expect(r.stderr).toMatch(/relay-lcus: cannot open .*no-such-tty/);
      expect(r.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("virtual LCUS relay on a PTY", () => {
  let workDir: string;
  let relay: VirtualRelay | undefined;
  let board: VirtualBoard | undefined;
  let port: SerialPort | undefined;
  let con: ConsoleReader | undefined;
  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), "otarig-relay-"));
  });
  afterEach(async () => {
    await new Promise<void>((ok) => (port?.isOpen ? port.close(() => ok()) : ok()));
    await con?.close();
    await relay?.stop();
    await board?.stop();
    relay = board = port = con = undefined;
    rmSync(workDir, { recursive: true, force: true });
  });

  it("switches a wired virtual board's power from the exact bytes on the line", async () => {
    const output: string[] = [];
    relay = await startVirtualRelay({ name: "r1", workDir: join(workDir, "relay"), channels: 2, onOutput: (l) => output.push(l) });
    board = await startVirtualBoard({ name: "dut", serialNumber: "VB-R-1", workDir: join(workDir, "board") });
    expect((await runFlasher(board.flashDir, join(FIRMWARE, "app-1.0.0.bin"))).code).toBe(0);
    relay.wirePower(1, board.power);
    con = await ConsoleReader.open(board.consolePort);

    port = new SerialPort({ path: relay.port, baudRate: 9600, autoOpen: false });
    await new Promise<void>((ok, fail) => port!.open((err) => (err ? fail(err) : ok())));
    const send = (bytes: number[]) => new Promise<void>((ok, fail) => port!.write(Buffer.from(bytes), (err) => (err ? fail(err) : port!.drain(() => ok()))));

    await send([0xa0, 0x01, 0x01, 0xa2]);
    await con.expect(/^boot: slot=A version=1\.0\.0 /);
    expect(relay.isOn(1)).toBe(true);
    expect(board.isPowered()).toBe(true);

    await send([0xa0, 0x01, 0x07, 0x00]); // garbage: ignored, logged
    await send([0xa0, 0x01, 0x00, 0xa1]);
    await waitFor(() => !board!.isPowered(), "the board to be powered off");
    await relay.settled();
    expect(relay.isOn(1)).toBe(false);
    expect(output).toContain('{"event":"bad-frame","bytes":"a0 01 07 00","reason":"bad checksum 0x00, expected 0xa8"}');
    expect(output).toContain('{"event":"switch","channel":1,"on":true}');
    expect(output).toContain('{"event":"switch","channel":1,"on":false}');
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
