// --pause-on-failure: after a failed step the run is held as it is (boards powered, consoles
// capturing, server up, locks held) until the user says go on. While held, the run listens on a
// unix socket in its run directory (mode 0600: its user only), through which `rig attach` types
// into a board's console, switches its power or resets it (this process owns the ports), and
// `rig resume` ends the hold. The terminal's part (what to print, Enter or Ctrl-C) is the CLI's
// `pause` hook.
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { z } from "zod";
import type { EventBus } from "../core/events.ts";
import type { OtaServer } from "../server/types.ts";
import { didYouMean } from "../scenario/suggest.ts";
import type { BoardHandle } from "./board-handle.ts";
import { lineEndingOf } from "./device-actions.ts";
import { HOLD_SOCKET, PORTAL_SECRET_FILE, encodeLine, jsonLines, socketAddress, type HoldReply } from "./hold-protocol.ts";

export interface HoldInfo {
  runDir: string;
  /** the socket file (absolute or as given) */
  socket: string;
  boards: string[];
  /** the failed step's path */
  step?: string;
  message: string;
  server?: { url: string; portal: string; keyId?: string; secretFile?: string };
}

/**
 * The terminal's part of a hold: tells the user what they can do and resolves when they want the
 * run to go on (Enter, Ctrl-C). `ended` aborts when the hold ended another way (`rig resume`).
 */
export type PauseHook = (info: HoldInfo, ended: AbortSignal) => Promise<void>;

export interface HoldOptions {
  runDir: string;
  bus: EventBus;
  boards: Map<string, BoardHandle>;
  server: OtaServer | undefined;
  step: string | undefined;
  message: string;
  /** the run's signal: SIGTERM (or a SIGINT from elsewhere) ends the hold too */
  signal: AbortSignal;
  pause: PauseHook;
}

/** How long a power cycle through `rig attach --power cycle` keeps the board off. */
const ATTACH_CYCLE_OFF_MS = 1000;

/** How long attached clients get to hang up once the hold ends. */
const CLIENT_GRACE_MS = 1000;

const requestSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("console"), board: z.string() }),
  z.object({ op: z.literal("power"), board: z.string(), action: z.enum(["on", "off", "cycle"]) }),
  z.object({ op: z.literal("reset"), board: z.string() }),
  z.object({ op: z.literal("resume") }),
]);
const inputSchema = z.union([z.object({ input: z.string() }), z.object({ line: z.string() })]);

/**
 * Holds the run until the terminal, `rig resume` or the run's signal says go on; leaves nothing
 * behind. A hold that cannot be set up (the socket) is said, and the run goes on to its teardown.
 */
export async function holdRun(o: HoldOptions): Promise<void> {
  try {
    await hold(o);
  } catch (err) {
    o.bus.emit({ type: "log", level: "error", source: "pause", message: `could not hold the run open: ${(err as Error).message ?? String(err)}; tearing down` });
  }
}

async function hold(o: HoldOptions): Promise<void> {
  const started = o.bus.now();
  const ended = new AbortController();
  let resumedBy: "terminal" | "rig resume" | "interrupted" = "terminal";
  const resumed = new Promise<void>((resolve) => {
    ended.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const endHold = (by: typeof resumedBy) => {
    if (ended.signal.aborted) return;
    resumedBy = by;
    ended.abort();
  };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => serveClient(socket, o, () => endHold("rig resume"), sockets));
  const address = socketAddress(o.runDir);
  const secretFile = join(o.runDir, PORTAL_SECRET_FILE);
  try {
    await listenPrivately(server, address);
    const key = o.server?.credentials.apiKey;
    if (key) {
      rmSync(secretFile, { force: true }); // "wx" below: created now, with this mode, never an old file's
      writeFileSync(secretFile, `${key.secret}\n`, { mode: 0o600, flag: "wx" });
    }
    o.bus.emit({ type: "pause", ...(o.step ? { step: o.step } : {}), socket: join(o.runDir, HOLD_SOCKET), boards: [...o.boards.keys()] });
    const info: HoldInfo = {
      runDir: o.runDir,
      socket: join(o.runDir, HOLD_SOCKET),
      boards: [...o.boards.keys()],
      ...(o.step ? { step: o.step } : {}),
      message: o.message,
      ...(o.server
        ? { server: { url: o.server.url, portal: `${o.server.url}/portal/`, ...(key ? { keyId: key.keyId, secretFile } : {}) } }
        : {}),
    };
    const onAbort = () => endHold("interrupted");
    o.signal.addEventListener("abort", onAbort, { once: true });
    if (o.signal.aborted) onAbort();
    o.pause(info, ended.signal).then(
      () => endHold("terminal"),
      () => endHold("terminal"),
    );
    await resumed;
    o.signal.removeEventListener("abort", onAbort);
  } finally {
    endHold(resumedBy);
    for (const s of sockets) s.end(encodeLine({ closed: `the run resumed (${resumedBy}); tearing down` }));
    // An attached client that does not hang up is cut off after a moment: teardown does not wait on it.
    const cutOff = setTimeout(() => sockets.forEach((s) => s.destroy()), CLIENT_GRACE_MS);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearTimeout(cutOff);
    rmSync(address, { force: true });
    rmSync(secretFile, { force: true });
  }
  o.bus.emit({ type: "resume", by: resumedBy, heldMs: o.bus.now() - started });
}

/** Listens on a unix socket only its user can connect to (created under umask 0177, then checked). */
async function listenPrivately(server: Server, address: string): Promise<void> {
  rmSync(address, { force: true }); // a socket left by a killed run of the same directory
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const umask = process.umask(0o177); // the bind happens inside listen(): no moment of a wider mode
    try {
      server.listen(address, () => {
        server.off("error", reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  chmodSync(address, 0o600);
}

/** One client: its first line says what it wants; a console then streams both ways until it hangs up. */
function serveClient(socket: Socket, o: HoldOptions, resume: () => void, sockets: Set<Socket>): void {
  sockets.add(socket);
  const send = (reply: HoldReply) => {
    if (!socket.destroyed) socket.write(encodeLine(reply));
  };
  const fail = (message: string) => socket.end(encodeLine({ error: message }));
  let handle: BoardHandle | undefined;
  let stopStreaming = () => {};
  let writes = Promise.resolve();
  socket.on("close", () => {
    sockets.delete(socket);
    stopStreaming();
  });
  socket.on("error", () => socket.destroy());
  socket.on(
    "data",
    jsonLines((message) => {
      if (!handle) {
        const request = requestSchema.safeParse(message);
        if (!request.success) return fail(`not a request this run understands: ${JSON.stringify(message).slice(0, 120)}`);
        const r = request.data;
        if (r.op === "resume") {
          socket.end(encodeLine({ ok: true }));
          resume();
          return;
        }
        handle = o.boards.get(r.board);
        if (!handle) {
          const names = [...o.boards.keys()];
          return fail(`this run holds no board "${r.board}"${didYouMean(r.board, names)} (it holds: ${names.join(", ")})`);
        }
        const h = handle;
        if (r.op !== "console" && !h.board[r.op]) return fail(`board ${r.board} has no ${r.op} in its rig`);
        const prompt = h.profile.prompt;
        send({ ok: true, board: r.board, ...(r.op === "console" && prompt !== undefined ? { prompt } : {}) });
        stopStreaming = streamConsole(h, (data) => send({ data }));
        if (r.op === "power") {
          const power = h.board.power!;
          const act = r.action === "on" ? power.on() : r.action === "off" ? power.off() : power.cycle(ATTACH_CYCLE_OFF_MS);
          act.then(
            () => send({ done: `power ${r.action}` }),
            (err: unknown) => fail(`power ${r.action} of ${r.board} failed: ${(err as Error).message ?? String(err)}`),
          );
        } else if (r.op === "reset") {
          h.board.reset!.reset().then(
            () => send({ done: "reset" }),
            (err: unknown) => fail(`reset of ${r.board} failed: ${(err as Error).message ?? String(err)}`),
          );
        }
        return;
      }
      const input = inputSchema.safeParse(message);
      if (!input.success) return fail(`not console input: ${JSON.stringify(message).slice(0, 120)}`);
      const h = handle;
      const i = input.data;
      // one write after the other, so keys arrive in the order typed
      writes = writes
        .then(() => ("input" in i ? h.board.console.write(Buffer.from(i.input, "base64")) : h.board.console.send(i.line, { lineEnding: lineEndingOf(h) })))
        .catch((err: unknown) => send({ data: Buffer.from(`\r\n[rig attach: ${(err as Error).message ?? String(err)}]\r\n`).toString("base64") }));
    }),
  );
}

/** The board's bytes as they arrive (a console without raw access gives its lines). */
function streamConsole(handle: BoardHandle, send: (base64: string) => void): () => void {
  const console = handle.board.console as typeof handle.board.console & { onData?: (l: (chunk: Buffer) => void) => () => void };
  if (console.onData) return console.onData((chunk) => send(chunk.toString("base64")));
  return console.onLine((line) => send(Buffer.from(`${line.text}\r\n`).toString("base64")));
}
