import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CommandFlasher } from "../../harness/board/flash/command-flasher.ts";
import { SerialConsole } from "../../harness/board/console/serial-console.ts";
import { InfraError, ScenarioError } from "../../harness/core/errors.ts";
import { Peer, PtyPair, consoleOnPty, readLog, tempDir } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
let fakeEsptool: string;

beforeEach(() => {
  tmp = tempDir();
  fakeEsptool = join(tmp.dir, "fake-esptool.sh");
  // Prints like esptool (progress with "\r" as on a TTY, then "\n"), exits with $FAKE_EXIT.
  writeFileSync(
    fakeEsptool,
    `#!/bin/sh
echo "esptool.py v4.7.0 port=$2 image=$4 serial=$5"
echo "Connecting...."
printf 'Writing at 0x00010000... (25 %%)\\r'
printf 'Writing at 0x00020000... (50 %%)\\r'
printf 'Writing at 0x00030000... (100 %%)\\n'
if [ "$1" = fail ]; then echo "A fatal error occurred: Failed to connect to ESP32: No serial data received." >&2; exit 1; fi
if [ "$1" = hang ]; then sleep 30; fi
echo "Hard resetting via RTS pin..."
`,
  );
  chmodSync(fakeEsptool, 0o755);
});
afterEach(() => tmp.cleanup());

function flasher(mode: string, extra: Partial<ConstructorParameters<typeof CommandFlasher>[0]> = {}) {
  const output: string[] = [];
  const f = new CommandFlasher({
    command: [fakeEsptool, mode, "{port}", "write_flash", "{image}", "{board.serial}"],
    cwd: tmp.dir,
    timeoutMs: 10_000,
    progress: String.raw`\((?<percent>\d+) %\)`,
    placeholders: { port: "/dev/ttyFAKE", "board.serial": "ESP-0001" },
    sharePort: false,
    onOutput: (l) => output.push(l),
    ...extra,
  });
  return { f, output };
}

describe("CommandFlasher", () => {
  it("fills placeholders, streams output and reports progress", async () => {
    const { f, output } = flasher("ok");
    const progress: number[] = [];
    await f.program("app.bin", (fraction) => progress.push(fraction));
    expect(output[0]).toBe(`esptool.py v4.7.0 port=/dev/ttyFAKE image=${join(tmp.dir, "app.bin")} serial=ESP-0001`);
    expect(progress).toEqual([0.25, 0.5, 1]);
    expect(output.at(-1)).toBe("Hard resetting via RTS pin...");
  });

  it("turns exit 1 into an InfraError naming the command with its last output", async () => {
    const { f } = flasher("fail");
    const err = await f.program("app.bin").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    const msg = (err as Error).message;
    expect(msg).toContain("fake-esptool.sh fail /dev/ttyFAKE write_flash");
    expect(msg).toContain("exited with code 1");
    expect(msg).toContain("Failed to connect to ESP32");
    expect(msg).toContain("Writing at 0x00030000... (100 %)");
  });

  it("times out a hanging flasher", async () => {
    const { f } = flasher("hang", { timeoutMs: 500 });
    await expect(f.program("app.bin")).rejects.toThrow(/timed out after 500ms[\s\S]*100 %/);
  });

  it("stops a running flasher when the run is cancelled", async () => {
    const controller = new AbortController();
    const { f } = flasher("hang", { signal: controller.signal });
    const running = f.program("app.bin").catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 200);
    const err = await running;
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/was stopped \(run cancelled\)/);
  });

  it("reports a flasher that cannot start", async () => {
    const f = new CommandFlasher({ command: ["otarig-no-esptool", "{image}"], cwd: tmp.dir, timeoutMs: 1000, placeholders: {}, sharePort: false });
    const err = await f.program("a.bin").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/could not start `otarig-no-esptool .*a\.bin`/);
  });

  it("rejects an unknown placeholder as a rig error", async () => {
    const f = new CommandFlasher({ command: ["true", "{prot}"], cwd: tmp.dir, timeoutMs: 1000, placeholders: { port: "x" }, sharePort: false });
    await expect(f.program("a.bin")).rejects.toBeInstanceOf(ScenarioError);
  });
});

describe("CommandFlasher with share_port on one PTY", () => {
  it("releases the console for the flasher and captures the boot that follows", async () => {
    const pty = new PtyPair(tmp.dir);
    await pty.start();
    const board = await Peer.open(pty.device);
    const logFile = join(tmp.dir, "dut.log");
    const con = new SerialConsole({
      board: "dut",
      port: pty.host,
      baud: 115200,
      lineEnding: "\n",
      reconnectTimeoutMs: 3000,
      logFile,
      clockOrigin: performance.now(),
    });
    await con.open();
    try {
      // The "board" boots once, the moment the flasher resets it: maybe before the console is
      // back. Neither the reset nor the banner may be lost on the way.
      board.port.on("data", (d: Buffer) => {
        if (d.toString().includes("RESET")) void board.print("rst:0x1 boot: slot=A version=1.1.0\r\n");
      });
      const script = join(tmp.dir, "share-flasher.sh");
      // Opens the console's own port, as esptool does, and resets the board at the end.
      writeFileSync(script, `#!/bin/sh\necho "flashing via $1"\nprintf 'RESET\\n' > "$1"\necho done\n`);
      chmodSync(script, 0o755);
      const f = new CommandFlasher({
        command: [script, "{port}"],
        cwd: tmp.dir,
        timeoutMs: 5000,
        placeholders: { port: pty.host },
        sharePort: true,
        console: con,
      });
      const mark = con.mark();
      await f.program("app.bin");
      expect(con.state).toBe("open");
      const m = await con.expect(/boot: slot=(?<slot>\w) version=1\.1\.0/, { withinMs: 5000, since: mark });
      expect(m.groups.slot).toBe("A");
      // and the way to the board works again
      const before = board.received.length;
      await con.send("status");
      await board.waitReceived(before + "status\n".length);
      expect(board.received.subarray(before).toString()).toBe("status\n");
      await con.close();
      expect(readLog(logFile)).toMatch(/console released to the flasher ---\n.*console back after .*\n.*boot: slot=A version=1\.1\.0/);
    } finally {
      await con.close();
      await board.close();
      await pty.stop();
    }
  });

  it("takes the PTY back without discarding what the board printed while it was released", async () => {
    const { peer: board, con, close } = await consoleOnPty({ reconnectTimeoutMs: 3000 });
    try {
      const mark = con.mark();
      await con.release("released to the flasher");
      await board.print("rst:0x1 boot: printed while released\r\n");
      // Time for socat to carry it across the pair: it then waits in the console's end of the PTY.
      await new Promise((r) => setTimeout(r, 200));
      await con.reacquire();
      await con.expect(/printed while released/, { withinMs: 2000, since: mark });
    } finally {
      await close();
    }
  });
});
