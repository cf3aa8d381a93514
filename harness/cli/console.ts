// rig console: an interactive serial console on one board, logged like a run. On a terminal it
// is raw both ways (keys to the board as typed, the board's bytes to the screen as they arrive)
// and Ctrl-] exits; with stdin piped it sends the input lines one at a time and exits when
// stdin ends and the board has gone quiet.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CONSOLE_HELP } from "./board-help.ts";
import { lineEndingOf } from "../runner/device-actions.ts";
import {
  BOOT_QUIET_MS,
  BOOT_WATCH_MAX_MS,
  abortOf,
  requirePart,
  sessionTarget,
  parseCommandLine,
  report,
  UsageError,
  untilBoardSettles,
  withBoard,
  type BoardSession,
} from "./board-commands.ts";

/** Ctrl-]: telnet's, picocom's and miniterm's way out. */
const EXIT_BYTE = 0x1d;
/** Piped input: how long the board must be quiet before the command exits after stdin ends. */
const DRAIN_QUIET_MS = 500;
const DRAIN_MAX_MS = 10_000;
/** Piped input: how long to wait for the prompt after a line before sending the next anyway. */
const LINE_MAX_MS = 10_000;

export async function consoleCommand(argv: string[]): Promise<number> {
  const name = "rig console";
  let parsed;
  try {
    parsed = parseCommandLine(argv, { "power-on": { type: "boolean" } });
    if (parsed.values.help) {
      process.stdout.write(CONSOLE_HELP);
      return 0;
    }
    if (parsed.positionals.length > 2) throw new UsageError(`unexpected argument "${parsed.positionals[2]}"`);
  } catch (err) {
    return report(name, err);
  }
  const powerOnFlag = parsed.values["power-on"];
  return withBoard(
    {
      ...sessionTarget("console", parsed),
      statusToStderr: true, // stdout is the board's
      precheck: (rig, board) => {
        if (powerOnFlag) requirePart(rig, board, "power", "--power-on: ");
      },
    },
    async (s) => {
      const powerOn = (powerOnFlag ?? s.isVirtual) && s.handle.board.power !== undefined;
      const offData = s.console.onData((chunk) => void process.stdout.write(chunk));
      try {
        const interactive = process.stdin.isTTY === true;
        s.say(`${name}: ${s.boardName} on ${s.console.port}${interactive ? "; Ctrl-] exits" : ""}`);
        const empty = emptyFlashHint(s, parsed.positionals[0] ?? "<rig>");
        if (empty) s.say(`${name}: ${empty}`);
        if (powerOn) {
          s.say(`${name}: powering ${s.boardName} on`);
          await s.handle.board.power!.on();
        }
        if (interactive) await runInteractive(s);
        else await runPiped(s, powerOn);
      } finally {
        offData();
      }
    },
  );
}

/**
 * A virtual board whose flash holds no image boots nothing and ignores typing (as a blank board
 * would): say so, and what to do, before the user types into silence.
 */
function emptyFlashHint(s: BoardSession, rigFile: string): string | undefined {
  const dir = s.handle.board.fields.flash_dir;
  if (!s.isVirtual || !dir) return undefined;
  if (["a", "b"].some((slot) => existsSync(join(dir, `slot-${slot}.bin`)))) return undefined;
  return `the flash of ${s.boardName} is empty: it boots nothing and typing does nothing; flash an image first: rig flash ${rigFile} ${s.boardName} <image>`;
}

function runInteractive(s: BoardSession): Promise<void> {
  return typeRaw("rig console", (bytes) => s.console.write(bytes), s.signal);
}

/**
 * A raw terminal typing into a board: keys go to `write` as typed, in order; Ctrl-] (or stdin's
 * end, or `signal`) ends it. `rig attach` types through a held run the same way.
 */
export async function typeRaw(name: string, write: (bytes: Buffer) => Promise<void>, signal: AbortSignal): Promise<void> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  let writes = Promise.resolve();
  try {
    await new Promise<void>((done) => {
      const finish = () => {
        stdin.off("data", onData);
        stdin.off("end", finish);
        done();
      };
      const onData = (chunk: Buffer) => {
        const at = chunk.indexOf(EXIT_BYTE);
        const part = at >= 0 ? chunk.subarray(0, at) : chunk;
        if (part.length > 0) {
          // One write after the other, so keys arrive in the order typed. A failed write (port
          // away too long) is shown and typing goes on: the console keeps looking for the port.
          writes = writes.then(() => write(Buffer.from(part))).catch((err: unknown) => {
            process.stderr.write(`\r\n${name}: ${err instanceof Error ? err.message : String(err)}\r\n`);
          });
        }
        if (at >= 0) finish();
      };
      stdin.on("data", onData);
      stdin.on("end", finish);
      void abortOf(signal).then(finish);
      stdin.resume();
    });
    await writes;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\r\n");
  }
}

async function runPiped(s: BoardSession, poweredOn: boolean): Promise<void> {
  const prompt = s.handle.profile.prompt !== undefined ? new RegExp(s.handle.profile.prompt) : undefined;
  const queue: string[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on("line", (line) => {
    queue.push(line);
    wake?.();
  });
  input.on("close", () => {
    ended = true;
    wake?.();
  });

  try {
    if (poweredOn) {
      // Lines typed into a board that is still booting get lost: wait for its shell.
      const boot = await untilBoardSettles(s.console, {
        quietMs: BOOT_QUIET_MS,
        maxMs: BOOT_WATCH_MAX_MS,
        signal: s.signal,
        ...(prompt ? { prompt, since: 0 } : {}),
      });
      if (boot === "silent") s.say(`rig console: ${s.boardName} printed nothing within ${BOOT_WATCH_MAX_MS / 1000}s after power on`);
    }
    while (!s.signal.aborted) {
      const line = queue.shift();
      if (line !== undefined) {
        const mark = s.console.mark();
        await s.console.send(line, { lineEnding: lineEndingOf(s.handle) });
        // The next line once the shell is back (its prompt), as a person would type it.
        await untilBoardSettles(s.console, {
          signal: s.signal,
          maxMs: LINE_MAX_MS,
          ...(prompt ? { prompt, since: mark, quietMs: Infinity } : { quietMs: DRAIN_QUIET_MS, quietFromNow: true }),
        });
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        void abortOf(s.signal).then(resolve);
      });
      wake = undefined;
    }
    // stdin ended: let the board finish what it was printing.
    await untilBoardSettles(s.console, { quietMs: DRAIN_QUIET_MS, maxMs: DRAIN_MAX_MS, signal: s.signal, quietFromNow: true });
  } finally {
    input.close();
  }
}
