// The network fault injector behind `fault.network` (issue 5, item 3): a byte-level TCP proxy the
// harness puts between a board and the OTA server. The board is given the proxy's address (also on
// real benches), so everything it says to the server passes through here untouched (HTTP
// keep-alive, Range requests, TLS, anything) until a fault is injected.
//
// Faults act on server->board traffic (downloads), counted from the moment the fault is injected,
// across all connections:
//   cut      once `afterBytes` (default 0) more bytes went to the board, reset every open connection
//            on both sides; with `durationMs`, new connections are reset at once for that long.
//   drop     once `afterBytes` (default 0) more bytes went to the board, black-hole: connections stay
//            open, nothing passes either way, new connections are accepted but silent; after
//            `durationMs` (default: until clear()) the held connections are reset.
//   delay    add `delayMs` (default 500) to every chunk in both directions for `durationMs`
//            (default: until clear()).
//   corrupt  flip (XOR 0xFF) the single byte at offset `afterBytes` (default 4096) of the traffic
//            to the board, once. Bytes are counted raw, headers included: keep `afterBytes` above
//            the size of the response header (~300 bytes) so the transfer completes and only the
//            body's digest is wrong.
// Byte offsets are exact: a chunk that straddles a trigger point is split there.
import net from "node:net";
import { InfraError, ScenarioError } from "../core/errors.ts";
import { parseTarget, type ProxyTarget } from "./proxy-target.ts";

export type { ProxyTarget } from "./proxy-target.ts";
export { parseTarget } from "./proxy-target.ts";

export type NetworkFaultMode = "drop" | "delay" | "cut" | "corrupt";

export const NETWORK_FAULT_MODES: readonly NetworkFaultMode[] = ["drop", "delay", "cut", "corrupt"];

export interface NetworkFault {
  mode: NetworkFaultMode;
  /** Server->board bytes to let through (from the moment of injection) before the fault acts. */
  afterBytes?: number;
  /** How long the fault lasts once it acts (cut: refusal window; drop, delay: the window). */
  durationMs?: number;
  /** Latency added to every chunk, for `delay` (default 500). */
  delayMs?: number;
}

export interface NetworkProxyOptions {
  /** "http://127.0.0.1:PORT" (any URL with a host and port) or "host:port". */
  target: string;
  /** Address to listen on (default 127.0.0.1; a real bench may need 0.0.0.0). */
  listenHost?: string;
  /** Port to listen on (default 0: any free port). */
  listenPort?: number;
  /** Human-readable news: faults applied, windows over, upstream failures. */
  onEvent?: (message: string) => void;
}

export interface NetworkProxyStats {
  /** Connections accepted since start (refused ones not included). */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Connections reset at once during a cut window. */
  refused: number;
  bytesToBoard: number;
  bytesToServer: number;
  /** Faults that acted: each cut, each drop window, each flipped byte (delays count when injected). */
  faultsApplied: number;
}

export const DEFAULT_DELAY_MS = 500;
export const DEFAULT_CORRUPT_AFTER_BYTES = 4096;

/** Chunks queued in one direction before the sending socket is paused. */
const QUEUE_HIGH_WATER = 16;

interface ActiveFault {
  readonly mode: NetworkFaultMode;
  readonly afterBytes: number;
  readonly durationMs: number | undefined;
  readonly delayMs: number;
  /** Absolute value of the bytes-to-board counter at which the fault acts. */
  readonly atByte: number;
  /** armed: waiting for its byte; active: acting (cut window, drop window, delay). */
  phase: "armed" | "active";
  timer?: NodeJS.Timeout;
  /** drop: the connections held silent by this window. */
  held?: Set<Link>;
}

/** Reset a socket (RST) if it is a live TCP socket, else just destroy it. */
function reset(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/** One direction of a connection: an ordered queue (chunks wait out their delay) with backpressure. */
class Pipe {
  private readonly queue: { data: Buffer; releaseAt: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private waitingDrain = false;
  private srcEnded = false;
  private srcClosed = false;
  private dstEnded = false;
  private finishing = false;

  constructor(
    readonly link: Link,
    readonly src: net.Socket,
    readonly dst: net.Socket,
    readonly toBoard: boolean,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(data: Buffer): void {
    const delay = this.link.proxy.currentDelayMs();
    this.queue.push({ data, releaseAt: delay > 0 ? Date.now() + delay : 0 });
    this.pump();
    if (!this.link.closed && (this.waitingDrain || this.queue.length >= QUEUE_HIGH_WATER)) this.src.pause();
  }

  /** The source sent FIN (or closed): flush what is queued, then end the destination. */
  end(closed: boolean): void {
    this.srcEnded = true;
    if (closed) this.srcClosed = true;
    this.pump();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private pump(): void {
    if (this.timer || this.waitingDrain || this.link.closed) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.releaseAt - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      const flowing = this.link.proxy.forward(this, head.data);
      if (this.link.closed) return;
      if (!flowing) {
        this.waitingDrain = true;
        this.dst.once("drain", () => {
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
    }
    if (this.src.isPaused() && !this.srcEnded) this.src.resume();
    // A black hole passes no FIN either; the window's end resets the pair.
    if (this.link.proxy.blackHoling()) return;
    if (this.srcEnded && !this.dstEnded) {
      this.dstEnded = true;
      this.dst.end();
    }
    if (this.srcClosed && this.dstEnded && !this.finishing) {
      this.finishing = true;
      // The source is gone for good: once our FIN is out, nothing more can happen on the pair.
      if (this.dst.writableFinished) this.link.destroy(false);
      else this.dst.once("finish", () => this.link.destroy(false));
    }
  }
}

/** A board connection and, unless it was accepted during a drop window, its server connection. */
class Link {
  closed = false;
  readonly pipes: Pipe[] = [];

  constructor(
    readonly proxy: NetworkProxy,
    readonly board: net.Socket,
    readonly server: net.Socket | undefined,
  ) {
    board.setNoDelay(true);
    board.on("error", () => this.destroy(true));
    if (!server) {
      // Silent (accepted during a drop): swallow whatever the board says; held until the window ends.
      board.on("data", () => {});
      board.on("close", () => this.destroy(false));
      return;
    }
    server.setNoDelay(true);
    const up = new Pipe(this, board, server, false);
    const down = new Pipe(this, server, board, true);
    this.pipes.push(up, down);
    for (const [pipe, other] of [
      [up, down],
      [down, up],
    ] as const) {
      pipe.src.on("data", (data: Buffer) => pipe.push(data));
      pipe.src.on("end", () => pipe.end(false));
      pipe.src.on("close", (hadError: boolean) => {
        // Data still queued towards a socket that is gone cannot be delivered: the pair is over.
        if (hadError || other.pending > 0) this.destroy(true);
        else pipe.end(true);
      });
    }
  }

  destroy(withReset: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pipes) p.stop();
    for (const s of [this.board, this.server]) {
      if (!s) continue;
      if (withReset) reset(s);
      else s.destroy();
    }
    this.proxy.forget(this);
  }
}

export class NetworkProxy {
  private readonly links = new Set<Link>();
  private faults: ActiveFault[] = [];
  private currentTarget: ProxyTarget;
  private closing: Promise<void> | undefined;
  private listenPort = 0;
  private readonly counters = { connections: 0, refused: 0, bytesToBoard: 0, bytesToServer: 0, faultsApplied: 0 };

  private constructor(
    private readonly server: net.Server,
    target: ProxyTarget,
    private readonly listenHost: string,
    private readonly onEvent: (message: string) => void,
  ) {
    this.currentTarget = target;
  }

  static async start(options: NetworkProxyOptions): Promise<NetworkProxy> {
    const target = parseTarget(options.target);
    const listenHost = options.listenHost ?? "127.0.0.1";
    const server = net.createServer({ allowHalfOpen: true });
    const proxy = new NetworkProxy(server, target, listenHost, options.onEvent ?? (() => {}));
    server.on("connection", (socket) => proxy.accept(socket));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new InfraError(`network proxy: cannot listen on ${listenHost}:${options.listenPort ?? 0}: ${err.message}`, { cause: err }));
      };
      server.once("error", onError);
      server.listen({ host: listenHost, port: options.listenPort ?? 0 }, () => {
        server.off("error", onError);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new InfraError("network proxy: listener has no TCP address");
    proxy.listenPort = address.port;
    server.on("error", (err) => proxy.emit(`listener error: ${err.message}`));
    return proxy;
  }

  /** The port listened on (still known after close()). */
  get port(): number {
    return this.listenPort;
  }

  /** The address a board is given. A wildcard listen address is reported as 127.0.0.1. */
  get url(): string {
    const wildcard = this.listenHost === "0.0.0.0" || this.listenHost === "::" || this.listenHost === "";
    const host = wildcard ? "127.0.0.1" : this.listenHost.includes(":") ? `[${this.listenHost}]` : this.listenHost;
    return `http://${host}:${this.port}`;
  }

  get target(): ProxyTarget {
    return { ...this.currentTarget };
  }

  /** Where new connections go (the server may move after a restart). Open connections stay. */
  setTarget(target: string): void {
    const next = parseTarget(target);
    if (next.host === this.currentTarget.host && next.port === this.currentTarget.port) return;
    this.currentTarget = next;
    this.emit(`target is now ${next.host}:${next.port}`);
  }

  inject(fault: NetworkFault): void {
    if (this.closing) throw new InfraError("network proxy is closed");
    const f = normalize(fault);
    const active: ActiveFault = { ...f, atByte: this.counters.bytesToBoard + f.afterBytes, phase: "armed" };
    this.faults.push(active);
    const window = f.durationMs === undefined ? "" : ` for ${f.durationMs} ms`;
    switch (f.mode) {
      case "delay": {
        active.phase = "active";
        this.counters.faultsApplied++;
        this.emit(`delay ${f.delayMs} ms on every chunk${window || " until cleared"}`);
        if (f.durationMs !== undefined) {
          active.timer = setTimeout(() => {
            this.remove(active);
            this.emit(`delay over after ${f.durationMs} ms`);
          }, f.durationMs);
        }
        break;
      }
      case "corrupt":
        this.emit(`corrupt armed: byte ${f.afterBytes} of the traffic to the board will be flipped`);
        break;
      case "cut":
      case "drop":
        if (f.afterBytes > 0) this.emit(`${f.mode} armed: after ${f.afterBytes} more bytes to the board${window}`);
        this.checkTriggers();
        break;
    }
  }

  /** Back to pass-through: armed faults disarmed, windows ended (a drop's held connections are reset). */
  clear(): void {
    const faults = this.faults;
    if (faults.length === 0) return;
    this.faults = [];
    for (const f of faults) {
      if (f.timer) clearTimeout(f.timer);
      if (f.mode === "drop" && f.phase === "active") this.releaseHeld(f, "cleared");
    }
    this.emit(`cleared ${faults.length} fault(s); pass-through`);
  }

  stats(): NetworkProxyStats {
    return { ...this.counters, open: this.links.size };
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => {
        for (const f of this.faults) if (f.timer) clearTimeout(f.timer);
        this.faults = [];
        this.server.close(() => resolve());
        for (const link of [...this.links]) link.destroy(false);
      });
    }
    return this.closing;
  }

  // ---- internals (Pipe and Link call these) ----

  /** Total latency added to a chunk arriving now. */
  currentDelayMs(): number {
    let total = 0;
    for (const f of this.faults) if (f.mode === "delay" && f.phase === "active") total += f.delayMs;
    return total;
  }

  /** Forward one chunk through the active faults; false when the destination wants a drain. */
  forward(pipe: Pipe, data: Buffer): boolean {
    if (!pipe.toBoard) {
      if (this.blackHoling()) return true;
      this.counters.bytesToServer += data.length;
      return pipe.dst.write(data);
    }
    let flowing = true;
    let rest = data;
    while (rest.length > 0) {
      if (pipe.link.closed || this.blackHoling()) return true;
      const piece = rest.subarray(0, Math.min(rest.length, this.bytesToNextTrigger()));
      flowing = pipe.dst.write(this.corrupt(piece));
      this.counters.bytesToBoard += piece.length;
      rest = rest.subarray(piece.length);
      this.checkTriggers();
    }
    return flowing;
  }

  /** A drop window is on: nothing passes, in either direction. */
  blackHoling(): boolean {
    return this.faults.some((f) => f.mode === "drop" && f.phase === "active");
  }

  forget(link: Link): void {
    this.links.delete(link);
  }

  // ---- private ----

  private accept(board: net.Socket): void {
    if (this.closing) {
      reset(board);
      return;
    }
    board.on("error", () => {});
    if (this.refusing()) {
      this.counters.refused++;
      reset(board);
      this.emit("refused a connection (cut window)");
      return;
    }
    this.counters.connections++;
    const drops = this.faults.filter((f) => f.mode === "drop" && f.phase === "active");
    if (drops.length > 0) {
      const link = new Link(this, board, undefined);
      this.links.add(link);
      for (const d of drops) d.held?.add(link);
      return;
    }
    const { host, port } = this.currentTarget;
    const server = net.connect({ host, port, allowHalfOpen: true });
    let connected = false;
    server.once("connect", () => {
      connected = true;
    });
    server.on("error", (err: NodeJS.ErrnoException) => {
      if (!connected) this.emit(`server ${host}:${port} unreachable (${err.code ?? err.message}); board connection reset`);
    });
    const link = new Link(this, board, server);
    server.on("error", () => link.destroy(true));
    this.links.add(link);
  }

  private emit(message: string): void {
    try {
      this.onEvent(message);
    } catch {
      // a broken listener must not break the proxy
    }
  }

  private remove(f: ActiveFault): void {
    if (f.timer) clearTimeout(f.timer);
    this.faults = this.faults.filter((x) => x !== f);
  }

  private refusing(): boolean {
    return this.faults.some((f) => f.mode === "cut" && f.phase === "active");
  }

  /** Bytes to the board that may pass before an armed cut or drop acts (Infinity if none). */
  private bytesToNextTrigger(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const f of this.faults) {
      if ((f.mode === "cut" || f.mode === "drop") && f.phase === "armed") next = Math.min(next, f.atByte - this.counters.bytesToBoard);
    }
    return Math.max(next, 0);
  }

  /** Flip the byte an armed corrupt fault points at, if it is in this piece (copying, never in place). */
  private corrupt(piece: Buffer): Buffer {
    let out = piece;
    const start = this.counters.bytesToBoard;
    for (const f of this.faults) {
      if (f.mode !== "corrupt" || f.atByte < start || f.atByte >= start + piece.length) continue;
      if (out === piece) out = Buffer.from(piece);
      const i = f.atByte - start;
      out[i] = (out[i] ?? 0) ^ 0xff;
      this.remove(f);
      this.counters.faultsApplied++;
      this.emit(`corrupt: flipped byte ${f.afterBytes} of the traffic to the board (stream offset ${f.atByte})`);
    }
    return out;
  }

  private checkTriggers(): void {
    for (const f of [...this.faults]) {
      if (f.phase !== "armed" || (f.mode !== "cut" && f.mode !== "drop")) continue;
      if (f.atByte > this.counters.bytesToBoard) continue;
      if (f.mode === "cut") this.triggerCut(f);
      else this.triggerDrop(f);
    }
  }

  private triggerCut(f: ActiveFault): void {
    const victims = [...this.links];
    for (const link of victims) link.destroy(true);
    this.counters.faultsApplied++;
    const window = f.durationMs === undefined ? "" : `; refusing new connections for ${f.durationMs} ms`;
    this.emit(`cut ${victims.length} connection(s) after ${f.afterBytes} bytes${window}`);
    if (f.durationMs === undefined) {
      this.remove(f);
      return;
    }
    f.phase = "active";
    f.timer = setTimeout(() => {
      this.remove(f);
      this.emit(`cut window over after ${f.durationMs} ms; accepting connections again`);
    }, f.durationMs);
  }

  private triggerDrop(f: ActiveFault): void {
    f.phase = "active";
    f.held = new Set(this.links);
    this.counters.faultsApplied++;
    const window = f.durationMs === undefined ? " until cleared" : ` for ${f.durationMs} ms`;
    this.emit(`drop: black-holing ${f.held.size} connection(s) after ${f.afterBytes} bytes${window}`);
    if (f.durationMs !== undefined) {
      f.timer = setTimeout(() => {
        this.remove(f);
        this.releaseHeld(f, `over after ${f.durationMs} ms`);
      }, f.durationMs);
    }
  }

  /** End of a drop window: the held connections end the way a dead link does, with a reset. */
  private releaseHeld(f: ActiveFault, why: string): void {
    const held = [...(f.held ?? [])].filter((l) => !l.closed);
    f.held?.clear();
    for (const link of held) link.destroy(true);
    this.emit(`drop ${why}: reset ${held.length} held connection(s); service resumed`);
  }
}

function normalize(fault: NetworkFault): Omit<ActiveFault, "atByte" | "phase"> {
  const { mode } = fault;
  if (!NETWORK_FAULT_MODES.includes(mode)) {
    throw new ScenarioError(`fault.network: unknown mode ${JSON.stringify(mode)} (expected one of ${NETWORK_FAULT_MODES.join(", ")})`);
  }
  const afterBytes = fault.afterBytes ?? (mode === "corrupt" ? DEFAULT_CORRUPT_AFTER_BYTES : 0);
  if (!Number.isSafeInteger(afterBytes) || afterBytes < 0) {
    throw new ScenarioError(`fault.network: after_bytes must be a whole number >= 0, got ${String(fault.afterBytes)}`);
  }
  if (fault.durationMs !== undefined && !(Number.isFinite(fault.durationMs) && fault.durationMs > 0)) {
    throw new ScenarioError(`fault.network: duration must be > 0 ms, got ${String(fault.durationMs)}`);
  }
  const delayMs = fault.delayMs ?? DEFAULT_DELAY_MS;
  if (!(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new ScenarioError(`fault.network: delay must be >= 0 ms, got ${String(fault.delayMs)}`);
  }
  if (mode === "corrupt" && fault.durationMs !== undefined) {
    throw new ScenarioError("fault.network: corrupt flips one byte once; duration does not apply");
  }
  return { mode, afterBytes, durationMs: fault.durationMs, delayMs };
}
