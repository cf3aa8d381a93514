// `bench reopen`: the share_port cycle every ESP32 rig goes through with esptool, N times on one
// socat PTY pair. The console lets go of the port, a flasher opens it and writes the board's reset
// command, the console takes the port back, and the board, the moment it reads the reset, prints
// its boot line once. A cycle is a miss when that line does not reach the console: the reset or
// the boot line was lost on the way. Target: no miss.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { SerialConsole } from "../harness/board/console/serial-console.ts";
import { CommandFlasher } from "../harness/board/flash/command-flasher.ts";
import { openPtyPair, requireSocat } from "../harness/board/virtual/pty-pair.ts";
import { fmtInt, fmtMs, heading, note, numberOption, table, tempDir, verdict, type Benchmark } from "./lib/common.ts";

/** How long a cycle waits for the boot line before it counts as a miss. */
const BOOT_WITHIN_MS = 5000;

export const reopenBench: Benchmark = {
  name: "reopen",
  summary: "share_port cycles on one PTY: console released, flasher resets the board, console back (target: 0 boot lines missed)",
  optionsHelp: ["--cycles 100         release / flash / reopen cycles"],
  async run(ctx) {
    requireSocat();
    const cycles = Math.round(numberOption(ctx, "cycles", 100, 10_000));
    const tmp = tempDir(ctx, "reopen");
    const pty = await openPtyPair(join(tmp.path, "console"), join(tmp.path, "device"));
    const board = new SerialPort({ path: pty.b, baudRate: 115200, autoOpen: false });
    const con = new SerialConsole({
      board: "dut",
      port: pty.a,
      baud: 115200,
      lineEnding: "\n",
      reconnectTimeoutMs: 5000,
      logFile: join(tmp.path, "dut.log"),
      clockOrigin: performance.now(),
    });
    try {
      heading(`reopen: ${cycles} share_port cycles on one socat PTY pair`);
      await new Promise<void>((ok, fail) => board.open((err) => (err ? fail(err) : ok())));
      // The board boots once per reset it reads, printing the cycle it was reset in.
      let pending = "";
      board.on("data", (chunk: Buffer) => {
        pending += chunk.toString("latin1");
        for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
          const m = /^RESET (\d+)$/.exec(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          if (m) board.write(`rst:0x1 boot ${m[1]}\r\n`);
        }
      });
      await con.open();
      const script = join(tmp.path, "flasher.sh");
      // Opens the console's own port, as esptool does, and resets the board as it ends.
      writeFileSync(script, `#!/bin/sh\nprintf 'RESET %s\\n' "$2" > "$1"\n`);
      chmodSync(script, 0o755);

      const times: number[] = [];
      const missed: string[] = [];
      for (let i = 1; i <= cycles; i++) {
        const flasher = new CommandFlasher({
          command: [script, "{port}", "{cycle}"],
          cwd: tmp.path,
          timeoutMs: 10_000,
          placeholders: { port: pty.a, cycle: String(i) },
          sharePort: true,
          console: con,
        });
        const mark = con.mark();
        const started = performance.now();
        await flasher.program("app.bin");
        try {
          await con.expect(new RegExp(`^rst:0x1 boot ${i}$`), { withinMs: BOOT_WITHIN_MS, since: mark });
          times.push(performance.now() - started);
        } catch (err) {
          missed.push(`cycle ${i}: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`);
        }
      }
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      table(
        ["cycles", "boot line missed", "flash call to boot line: median", "p95", "max", "target", "verdict"],
        [[fmtInt(cycles), fmtInt(missed.length), fmtMs(at(0.5)), fmtMs(at(0.95)), fmtMs(sorted.at(-1) ?? 0), "0 missed", verdict(missed.length === 0)]],
      );
      for (const m of missed.slice(0, 5)) note(`  missed: ${m}`);
      if (missed.length > 5) note(`  … and ${missed.length - 5} more`);
    } finally {
      await con.close();
      if (board.isOpen) await new Promise<void>((ok) => board.close(() => ok()));
      await pty.close();
      tmp.cleanup();
    }
  },
};
