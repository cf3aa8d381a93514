// rig attach / rig resume: the client side of a held run (--pause-on-failure; the run side is
// runner/hold.ts). The held run owns the boards' ports; these talk to it over the unix socket in
// its run directory: a console on a board (raw keys on a terminal, Ctrl-] leaves; piped input is
// sent a line at a time), a power switch or a reset with the boot shown, or "go on".
import { existsSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { EXIT_CODES } from "../core/errors.ts";
import { encodeLine, jsonLines, socketAddress, type ConsoleInput, type HoldReply, type HoldRequest, type PowerAction } from "../runner/hold-protocol.ts";
import { didYouMean } from "../scenario/suggest.ts";
import { ATTACH_HELP, RESUME_HELP } from "./board-help.ts";
import { BOOT_QUIET_MS, BOOT_WATCH_MAX_MS, UsageError, parseCommandLine, report } from "./board-commands.ts";
import { typeRaw } from "./console.ts";

const POWER_ACTIONS: PowerAction[] = ["on", "off", "cycle"];
/** Piped input: quiet time that ends the wait for an answer when the board has no prompt, and the drain at the end. */
const QUIET_MS = 500;
const LINE_MAX_MS = 10_000;

export async function attachCommand(argv: string[]): Promise<number> {
  const name = "rig attach";
  try {
    const parsed = parseCommandLine(argv, { power: { type: "string" }, reset: { type: "boolean", default: false } });
    if (parsed.values.help) return help(ATTACH_HELP);
    const [runDir, board, extra] = parsed.positionals;
    if (!runDir || !board) throw new UsageError("needs a run directory and a board name (rig attach <run dir> <board>)");
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const action = parsed.values.power;
    if (action !== undefined && !POWER_ACTIONS.includes(action as PowerAction)) {
      throw new UsageError(`--power must be one of ${POWER_ACTIONS.join(", ")}, not "${action}"${didYouMean(action, POWER_ACTIONS)}`);
    }
    if (action !== undefined && parsed.values.reset) throw new UsageError("--power and --reset: one at a time");
    const request: HoldRequest = action
      ? { op: "power", board, action: action as PowerAction }
      : parsed.values.reset
        ? { op: "reset", board }
        : { op: "console", board };
    const link = await openLink(runDir, request);
    if (request.op === "console") return await consoleThrough(link);
    return await actionThrough(link, request.op === "power" ? `power ${request.action}` : "reset", request.op === "power" && request.action === "off");
  } catch (err) {
    return report(name, err);
  }
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const name = "rig resume";
  try {
    const parsed = parseCommandLine(argv, {});
    if (parsed.values.help) return help(RESUME_HELP);
    const [runDir, extra] = parsed.positionals;
    if (!runDir) throw new UsageError("needs the run directory of a held run (rig resume <run dir>)");
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const link = await openLink(runDir, { op: "resume" });
    link.socket.end();
    process.stdout.write(`${name}: ${runDir} goes on to teardown and reports\n`);
    return EXIT_CODES.pass;
  } catch (err) {
    return report(name, err);
  }
}

/** A connection to a held run whose first reply said yes; later replies go to `onReply`. */
interface Link {
  socket: Socket;
  /** the board's prompt (a regex source), for piped input */
  prompt?: string;
  onReply(listener: (reply: HoldReply) => void): void;
  /** resolves when the run hangs up (or the connection drops) */
  closed: Promise<void>;
}

async function openLink(runDir: string, request: HoldRequest): Promise<Link> {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new UsageError(`no run directory ${runDir}`);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(socketAddress(runDir));
    s.once("connect", () => resolve(s));
    s.once("error", (err: NodeJS.ErrnoException) => reject(notHeld(runDir, err)));
  });
  const listeners: Array<(reply: HoldReply) => void> = [];
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {}); // a dropped connection ends as a close
  const first = new Promise<HoldReply>((resolve, reject) => {
    let answered = false;
    socket.on(
      "data",
      jsonLines((m) => {
        const reply = m as HoldReply;
        if (answered) return listeners.forEach((l) => l(reply));
        answered = true;
        resolve(reply);
      }),
    );
    void closed.then(() => (answered ? undefined : reject(new UsageError(`${runDir}: the held run hung up without an answer`))));
  });
  socket.write(encodeLine(request));
  const reply = await first;
  if ("error" in reply) throw new UsageError(reply.error);
  if ("closed" in reply) throw new UsageError(`${runDir}: ${reply.closed}`);
  return {
    socket,
    ...("ok" in reply && reply.prompt !== undefined ? { prompt: reply.prompt } : {}),
    onReply: (l) => void listeners.push(l),
    closed,
  };
}

function notHeld(runDir: string, err: NodeJS.ErrnoException): UsageError {
  const hint = "(a run is held only while it waits after a failed step under rig run --pause-on-failure)";
  if (err.code === "ENOENT") return new UsageError(`${runDir} is not a held run: it has no attach.sock ${hint}`);
  if (err.code === "ECONNREFUSED") return new UsageError(`${runDir} is not a held run: its attach.sock was left by a run that no longer runs ${hint}`);
  if (err.code === "EACCES") return new UsageError(`${runDir}: the held run belongs to another user (its socket is readable by that user only)`);
  return new UsageError(`${runDir}: cannot reach the held run: ${err.message}`);
}

/** A console on the held board: a terminal types raw keys; piped lines are sent one at a time. */
async function consoleThrough(link: Link): Promise<number> {
  let hungUp = "";
  const watch = boardOutput(link);
  link.onReply((r) => {
    if ("closed" in r) hungUp = r.closed;
    if ("error" in r) hungUp = r.error;
  });
  const send = (input: ConsoleInput) => void link.socket.write(encodeLine(input));
  const gone = new AbortController();
  void link.closed.then(() => gone.abort());
  if (process.stdin.isTTY) {
    process.stderr.write("rig attach: attached through the held run; Ctrl-] leaves (the run goes on holding)\n");
    await typeRaw("rig attach", async (bytes) => send({ input: bytes.toString("base64") }), gone.signal);
  } else {
    const prompt = link.prompt !== undefined ? new RegExp(link.prompt) : undefined;
    const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
    void link.closed.then(() => input.close()); // the run resumed: stop reading, whatever stdin does
    for await (const line of input) {
      if (gone.signal.aborted) break;
      const from = watch.seen();
      send({ line });
      await watch.until({ ...(prompt ? { prompt, from } : {}), quietMs: prompt ? Infinity : QUIET_MS, maxMs: LINE_MAX_MS, signal: gone.signal });
    }
    await watch.until({ quietMs: QUIET_MS, maxMs: LINE_MAX_MS, signal: gone.signal });
  }
  link.socket.end();
  await link.closed;
  if (hungUp) process.stderr.write(`rig attach: ${hungUp}\n`);
  return EXIT_CODES.pass;
}

/** A power switch or a reset through the held run: its answer, then the boot until the board goes quiet. */
async function actionThrough(link: Link, what: string, expectSilence: boolean): Promise<number> {
  const watch = boardOutput(link);
  let failed = "";
  const finished = new Promise<void>((resolve) => {
    link.onReply((r) => {
      if ("done" in r) resolve();
      if ("error" in r) (failed = r.error), resolve();
    });
    void link.closed.then(() => resolve());
  });
  await finished;
  if (!failed) {
    process.stderr.write(`rig attach: ${what} done\n`);
    const gone = new AbortController();
    void link.closed.then(() => gone.abort());
    if (!expectSilence) await watch.until({ quietMs: BOOT_QUIET_MS, maxMs: BOOT_WATCH_MAX_MS, afterFirstByte: true, signal: gone.signal });
  }
  link.socket.end();
  await link.closed;
  if (failed) {
    process.stderr.write(`rig attach: ${failed}\n`);
    return EXIT_CODES.infrastructure;
  }
  return EXIT_CODES.pass;
}

interface UntilOptions {
  quietMs: number;
  maxMs: number;
  signal: AbortSignal;
  /** also done when this appears in the output from offset `from` on */
  prompt?: RegExp;
  from?: number;
  /** quiet counts only once the board has printed something */
  afterFirstByte?: boolean;
}

/** The board's bytes to stdout as they come, and waits on them (quiet, a prompt). */
function boardOutput(link: Link): { seen(): number; until(o: UntilOptions): Promise<void> } {
  let text = "";
  let lastByte = performance.now();
  const wakers = new Set<() => void>();
  link.onReply((r) => {
    if (!("data" in r)) return;
    const bytes = Buffer.from(r.data, "base64");
    process.stdout.write(bytes);
    text = (text + bytes.toString("latin1")).slice(-65_536);
    lastByte = performance.now();
    for (const w of wakers) w();
  });
  let total = 0;
  link.onReply((r) => {
    if ("data" in r) total += Buffer.from(r.data, "base64").length;
  });
  return {
    seen: () => total,
    until: (o) =>
      new Promise<void>((resolve) => {
        const started = performance.now();
        const firstAt = total;
        const check = () => {
          const now = performance.now();
          const printed = total > firstAt;
          const since = o.from !== undefined ? text.slice(Math.max(0, text.length - (total - o.from))) : text;
          const quietFrom = o.afterFirstByte && !printed ? now : Math.max(lastByte, started);
          if (o.signal.aborted || now - started >= o.maxMs || (o.prompt && o.prompt.test(since)) || now - quietFrom >= o.quietMs) {
            clearInterval(timer);
            wakers.delete(check);
            resolve();
          }
        };
        const timer = setInterval(check, 25);
        wakers.add(check);
        check();
      }),
  };
}

function help(text: string): number {
  process.stdout.write(text);
  return EXIT_CODES.pass;
}
