// rig power / reset / flash: one action on one board of a rig, outside any run. Each loads the
// rig and the board's profile, opens just that board with openRigSession (taking its lock, so it
// waits for a running scenario on the same board), does the action, closes the board and exits.
// Logs go to a run directory as in a run: <board>.log (every console byte) and run.log.
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseDuration, formatDuration } from "../core/duration.ts";
import { EXIT_CODES, InfraError, ScenarioError, uncaughtReport } from "../core/errors.ts";
import { EventBus } from "../core/events.ts";
import { SerialConsole } from "../board/console/serial-console.ts";
import { terminalSafe } from "../board/console/ansi.ts";
import { RunLogWriter } from "../report/run-log.ts";
import { openRigSession, type RigSession } from "../runner/rig-session.ts";
import type { BoardHandle } from "../runner/board-handle.ts";
import { loadProfile } from "../scenario/load-profile.ts";
import { loadRig } from "../scenario/load-rig.ts";
import { didYouMean } from "../scenario/suggest.ts";
import type { RigSpec } from "../scenario/types.ts";
import type { ConsoleSince } from "../board/types.ts";
import { FLASH_HELP, POWER_HELP, RESET_HELP } from "./board-help.ts";

/** How long after power on / reset the boot is shown at most, when no --watch is given. */
export const BOOT_WATCH_MAX_MS = 15_000;
/** "The board has finished booting": this long without a byte, after it started printing. */
export const BOOT_QUIET_MS = 1000;

const COMMON_OPTIONS = {
  out: { type: "string" },
  "lock-timeout": { type: "string", default: "30s" },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

/** A bad command line: exit 2 with the message and a pointer to --help. */
export class UsageError extends ScenarioError {}

export interface BoardSession {
  command: string;
  rig: RigSpec;
  boardName: string;
  handle: BoardHandle;
  /** the board's console (the session opens a SerialConsole; onData needs the class) */
  console: SerialConsole;
  isVirtual: boolean;
  runDir: string;
  bus: EventBus;
  signal: AbortSignal;
  /** where status messages go: stdout, or stderr when stdout carries the board's bytes */
  say(message: string): void;
}

export interface SessionSpec {
  command: string;
  /** the raw rig and board positionals */
  rigFile: string | undefined;
  boardName: string | undefined;
  out: string | undefined;
  lockTimeout: string;
  /** status messages to stderr (rig console: stdout is the board's) */
  statusToStderr?: boolean;
  /** checks on the board spec before anything is opened (a missing capability is a rig error) */
  precheck?: (rig: RigSpec, boardName: string) => void;
}

/** The parts of a session every board command takes from its command line the same way. */
export function sessionTarget(
  command: string,
  parsed: { positionals: string[]; values: { out?: string | undefined; "lock-timeout": string } },
): Pick<SessionSpec, "command" | "rigFile" | "boardName" | "out" | "lockTimeout"> {
  const [rigFile, boardName] = parsed.positionals;
  return { command, rigFile, boardName, out: parsed.values.out, lockTimeout: parsed.values["lock-timeout"] };
}

/** A rig error when the board lacks a part the command needs (`why` prefixes the message, e.g. "--power-on: "). */
export function requirePart(rig: RigSpec, board: string, part: "power" | "reset" | "flash", why = ""): void {
  const spec = rig.boards[board]!;
  if (!spec[part]) throw new ScenarioError(`${why}board "${board}" has no ${part}: ${part === "power" ? "control " : ""}in the rig`, spec.pos);
}

/**
 * Runs `action` with one board of a rig open, and maps what goes wrong to an exit code (DESIGN
 * §2): usage, rig and profile errors 2 (file:line:col), infrastructure 3, interrupted 130.
 */
export async function withBoard(spec: SessionSpec, action: (s: BoardSession) => Promise<number | void>): Promise<number> {
  const name = `rig ${spec.command}`;
  const sayTo = spec.statusToStderr ? process.stderr : process.stdout;
  const say = (message: string) => void sayTo.write(`${message}\n`);
  const controller = new AbortController();
  let opened = false;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted || !opened) {
      // Nothing to tear down yet (or a second Ctrl-C): go now. A lock left behind holds our
      // (dead) PID and is taken over by the next user.
      process.stderr.write(`\n${name}: interrupted\n`);
      process.exit(EXIT_CODES.interrupted);
    }
    interrupted = true;
    process.stderr.write(`\n${name}: interrupted; closing the board (again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let session: RigSession | undefined;
  let runLog: RunLogWriter | undefined;
  let bus: EventBus | undefined;
  try {
    if (!spec.rigFile || !spec.boardName) throw new UsageError("needs a rig file and a board name");
    let lockTimeoutMs: number;
    try {
      lockTimeoutMs = parseDuration(spec.lockTimeout);
    } catch (err) {
      throw new UsageError(`--lock-timeout: ${(err as Error).message}`);
    }
    const rig = await loadRig(spec.rigFile);
    const boardName = spec.boardName;
    const boardSpec = rig.boards[boardName];
    if (!boardSpec) {
      const known = Object.keys(rig.boards);
      throw new UsageError(`rig ${rig.name} (${spec.rigFile}) has no board "${boardName}"${didYouMean(boardName, known)} (boards: ${known.join(", ")})`);
    }
    const profile = await loadProfile(boardSpec.profile);
    spec.precheck?.(rig, boardName);

    const runDir = spec.out ?? join("runs", `${utcStamp()}-${safeName(spec.command)}-${safeName(boardName)}`);
    mkdirSync(runDir, { recursive: true });
    bus = new EventBus();
    runLog = new RunLogWriter(runDir);
    bus.subscribe(runLog.listener);
    bus.subscribe((e) => {
      // Lock waits, stale-lock takeovers, clean-up trouble: the user should see them.
      if (e.type === "log" && e.level === "warn") process.stderr.write(`${name}: ${e.source}: ${e.message}\n`);
      if (e.type === "console.gap") process.stderr.write(`${name}: ${e.board}: ${e.message}\n`);
    });
    bus.emit({ type: "log", level: "info", source: name, message: `${process.argv.slice(2).join(" ")} (rig ${rig.file})` });
    say(`${name}: logs in ${runDir}/ (${boardName}.log: the board's console; run.log: the rest)`);

    // a QEMU board is managed as a virtual one: its power is a process, its disk persists in the cache dir
    const isVirtual = boardSpec.virtual !== undefined || boardSpec.qemu !== undefined;
    session = await openRigSession(rig, [boardName], {
      runDir,
      bus,
      profiles: { [boardSpec.profile]: profile },
      signal: controller.signal,
      lockTimeoutMs,
      ...(isVirtual ? { virtualDir: virtualStateDir(rig) } : {}),
    });
    opened = true;
    const handle = session.handles.get(boardName)!;
    if (!(handle.board.console instanceof SerialConsole)) throw new InfraError(`board ${boardName}: its console is not a serial console`);
    const code = await action({
      command: spec.command,
      rig,
      boardName,
      handle,
      console: handle.board.console,
      isVirtual,
      runDir,
      bus,
      signal: controller.signal,
      say,
    });
    if (interrupted) return EXIT_CODES.interrupted;
    return code ?? EXIT_CODES.pass;
  } catch (err) {
    if (interrupted) return EXIT_CODES.interrupted;
    bus?.emit({ type: "log", level: "error", source: name, message: uncaughtReport(err).text });
    return report(name, err);
  } finally {
    if (session) {
      const managed = spec.boardName ? session.handles.get(spec.boardName)?.spec : undefined;
      if (managed?.virtual) say(`${name}: virtual board ${spec.boardName}: powered off as the command exits (its power is the firmware process)`);
      if (managed?.qemu) say(`${name}: QEMU board ${spec.boardName}: powered off as the command exits (its power is the QEMU process; the disk stays)`);
      await session.close();
    }
    bus?.emit({ type: "log", level: "info", source: name, message: "boards closed" });
    await runLog?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Prints an error as DESIGN §2 classifies it and returns its exit code. */
export function report(name: string, err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`${name}: ${err.message}\nRun "${name} --help" for usage.\n`);
    return EXIT_CODES.scenario;
  }
  const { text, exitCode } = uncaughtReport(err);
  process.stderr.write(`${name}: ${text}\n`);
  return exitCode;
}

/**
 * Per-rig folder where virtual boards keep their flash between commands (the virtual rig
 * itself lives only as long as one command): $XDG_CACHE_HOME/otarig/virtual/<rig>/, else
 * ~/.cache/otarig/virtual/<rig>/. A lock on that folder (lock-keys.ts) keeps two commands apart.
 */
export function virtualStateDir(rig: RigSpec): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "otarig", "virtual", safeName(rig.name));
}

function utcStamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d{3}Z$/, "Z");
}

function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, "_");
}

/** Parses a command line; a bad one becomes a UsageError (exit 2). */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, allowNegative: true, options: { ...COMMON_OPTIONS, ...options } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function durationOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

// ---- watching the console ----

export type WatchEnd = "quiet" | "prompt" | "silent" | "limit" | "aborted";

/**
 * Waits while the board prints: until it has been quiet for `quietMs` after its first byte
 * (`quietFromNow`: counting from now, byte or not), or until a line or prompt from `since` on
 * matches `prompt`, or `maxMs` passed ("silent" if it printed nothing meanwhile).
 */
export async function untilBoardSettles(
  console: SerialConsole,
  options: { quietMs: number; maxMs: number; signal: AbortSignal; prompt?: RegExp; since?: ConsoleSince; quietFromNow?: boolean },
): Promise<WatchEnd> {
  const started = performance.now();
  let printed = false;
  let lastByte: number | undefined = options.quietFromNow ? started : undefined;
  const offData = console.onData(() => {
    printed = true;
    lastByte = performance.now();
  });
  let promptSeen = false;
  if (options.prompt) {
    console.expect(options.prompt, { withinMs: options.maxMs, since: options.since ?? console.mark(), partial: true }).then(
      () => void (promptSeen = true),
      () => {}, // not within maxMs, or the console closed: the loop below decides
    );
  }
  try {
    for (;;) {
      const now = performance.now();
      if (options.signal.aborted) return "aborted";
      if (promptSeen) return "prompt";
      if (lastByte !== undefined && now - lastByte >= options.quietMs) return "quiet";
      if (now - started >= options.maxMs) return printed ? "limit" : "silent";
      await sleep(25);
    }
  } finally {
    offData();
  }
}

/** Prints the board's console lines as `<board> | <line>` while `during` runs. */
export async function showConsole<T>(s: BoardSession, during: () => Promise<T>): Promise<T> {
  const colors = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const off = s.console.onLine((line) => s.say(`${s.boardName} | ${terminalSafe(line.printed ?? line.text, { colors })}`));
  try {
    return await during();
  } finally {
    off();
  }
}

/** After power on / reset: shows the boot (default) or the console for exactly `watchMs`. */
async function watchBoot(s: BoardSession, watchMs: number | undefined): Promise<void> {
  if (watchMs === 0) return;
  if (watchMs !== undefined) {
    await Promise.race([sleep(watchMs), abortOf(s.signal)]);
    return;
  }
  const end = await untilBoardSettles(s.console, { quietMs: BOOT_QUIET_MS, maxMs: BOOT_WATCH_MAX_MS, signal: s.signal });
  if (end === "silent") s.say(`${s.boardName}: printed nothing within ${formatDuration(BOOT_WATCH_MAX_MS)}`);
  if (end === "limit") s.say(`${s.boardName}: still printing after ${formatDuration(BOOT_WATCH_MAX_MS)}; stopped watching (--watch DUR to see more)`);
}

// ---- rig power ----

const POWER_ACTIONS = ["on", "off", "cycle"] as const;

export async function powerCommand(argv: string[]): Promise<number> {
  const name = "rig power";
  let parsed;
  let offMs: number;
  let watchMs: number | undefined;
  try {
    parsed = parseCommandLine(argv, { off: { type: "string", default: "1s" }, watch: { type: "string" } });
    if (parsed.values.help) return help(POWER_HELP);
    offMs = durationOption("off", parsed.values.off)!;
    watchMs = durationOption("watch", parsed.values.watch);
    const [, , action, ...extra] = parsed.positionals;
    if (parsed.positionals.length >= 2 && !POWER_ACTIONS.includes(action as (typeof POWER_ACTIONS)[number])) {
      throw new UsageError(action === undefined ? `needs an action: ${POWER_ACTIONS.join(", ")}` : `unknown action "${action}"${didYouMean(action, POWER_ACTIONS)} (one of ${POWER_ACTIONS.join(", ")})`);
    }
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  } catch (err) {
    return report(name, err);
  }
  const action = parsed.positionals[2] as "on" | "off" | "cycle";
  return withBoard(
    {
      ...sessionTarget("power", parsed),
      precheck: (rig, board) => requirePart(rig, board, "power"),
    },
    async (s) => {
      const power = s.handle.board.power!;
      s.say(`${s.boardName}: power ${action}${action === "cycle" ? ` (off for ${formatDuration(offMs)})` : ""}`);
      if (action === "off") {
        await power.off();
        return;
      }
      await showConsole(s, async () => {
        if (action === "on") await power.on();
        else await power.cycle(offMs);
        await watchBoot(s, watchMs);
      });
    },
  );
}

// ---- rig reset ----

export async function resetCommand(argv: string[]): Promise<number> {
  const name = "rig reset";
  let parsed;
  let watchMs: number | undefined;
  try {
    parsed = parseCommandLine(argv, { watch: { type: "string" }, "power-on": { type: "boolean" } });
    if (parsed.values.help) return help(RESET_HELP);
    watchMs = durationOption("watch", parsed.values.watch);
    if (parsed.positionals.length > 2) throw new UsageError(`unexpected argument "${parsed.positionals[2]}"`);
  } catch (err) {
    return report(name, err);
  }
  const powerOnFlag = parsed.values["power-on"];
  return withBoard(
    {
      ...sessionTarget("reset", parsed),
      precheck: (rig, board) => {
        requirePart(rig, board, "reset");
        if (powerOnFlag) requirePart(rig, board, "power", "--power-on: ");
      },
    },
    async (s) => {
      const powerOn = powerOnFlag ?? s.isVirtual;
      await showConsole(s, async () => {
        if (powerOn && s.handle.board.power) {
          s.say(`${s.boardName}: power on (so there is something to reset)`);
          await s.handle.board.power.on();
          await watchBoot(s, undefined);
        }
        if (s.signal.aborted) return;
        s.say(`${s.boardName}: reset`);
        await s.handle.board.reset!.reset();
        await watchBoot(s, watchMs);
      });
    },
  );
}

// ---- rig flash ----

export async function flashCommand(argv: string[]): Promise<number> {
  const name = "rig flash";
  let parsed;
  try {
    parsed = parseCommandLine(argv, {});
    if (parsed.values.help) return help(FLASH_HELP);
    if (parsed.positionals.length === 2) throw new UsageError("needs an image to flash");
    if (parsed.positionals.length > 3) throw new UsageError(`unexpected argument "${parsed.positionals[3]}"`);
  } catch (err) {
    return report(name, err);
  }
  const imageArg = parsed.positionals[2];
  const image = imageArg === undefined ? undefined : resolve(imageArg);
  return withBoard(
    {
      ...sessionTarget("flash", parsed),
      precheck: (rig, board) => {
        requirePart(rig, board, "flash");
        if (!image || !existsSync(image)) throw new UsageError(`image not found: ${imageArg}`);
      },
    },
    async (s) => {
      const tty = process.stdout.isTTY === true;
      const started = performance.now();
      let shown = -1;
      s.say(`${s.boardName}: flashing ${imageArg}`);
      await s.handle.board.flash!.program(image!, (fraction) => {
        const percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
        s.bus.emit({ type: "progress", path: "flash", board: s.boardName, message: `flashing ${percent}%`, fraction });
        if (tty) {
          if (percent !== shown) process.stdout.write(`\r${s.boardName}: flashing ${String(percent).padStart(3)}%`);
          shown = percent;
        } else if (Math.floor(percent / 10) > Math.floor(shown / 10)) {
          // In a log, one line per 10%, not one per flasher line.
          s.say(`${s.boardName}: flashing ${percent}%`);
          shown = percent;
        }
      });
      if (tty && shown >= 0) process.stdout.write("\n");
      s.say(`${s.boardName}: flashed ${imageArg} in ${formatDuration(performance.now() - started)}`);
    },
  );
}

function help(text: string): number {
  process.stdout.write(text);
  return EXIT_CODES.pass;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function abortOf(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
}
