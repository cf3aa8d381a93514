// The fleet's HTTP transport: one keep-alive agent for all simulated devices, so N devices share
// a bounded pool of connections (as devices behind a NAT share a server's connection budget)
// instead of opening N sockets. Every exchange is measured (endpoint, status, latency, bytes)
// into the fleet's metrics. Bodies of downloads are handed to the caller chunk by chunk and never
// kept: a device's memory holds no image bytes.
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { DeviceRequest } from "../ota/device-client.ts";
import type { Endpoint, FleetMetrics } from "./metrics.ts";

export interface PoolOptions {
  /** the server's base url */
  server: string;
  /** connections kept open to the server at most */
  connections: number;
  /** per exchange: no answer (or no next chunk of a body) for this long fails it */
  timeoutMs: number;
  metrics: FleetMetrics;
}

export interface Answer {
  status: number;
  headers: IncomingMessage["headers"];
  /** the body as text (small answers only) */
  text: string;
}

const IDLE_MS = 4000;
const NOOP = (): void => {};

/** A network failure (refused, reset, timed out): no HTTP status. */
export class NetworkError extends Error {}

/** A kept-alive connection that turned out closed: the request may go again. */
class StaleConnection extends Error {}

export class HttpPool {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly send: typeof httpRequest;
  private readonly open = new Set<{ destroy(): void }>();
  private busy = 0;
  private waiting: Array<() => void> = [];
  private head = 0;
  private closed = false;

  constructor(private readonly o: PoolOptions) {
    this.base = new URL(o.server);
    const https = this.base.protocol === "https:";
    // An idle connection is closed by us before the server's keep-alive timeout (Node's: 5 s) can
    // close it under a request we just sent on it (that race shows as ECONNRESET).
    const options = { keepAlive: true, maxSockets: o.connections, maxFreeSockets: o.connections, scheduling: "lifo" as const, timeout: IDLE_MS };
    this.agent = https ? new HttpsAgent(options) : new Agent(options);
    this.send = https ? httpsRequest : httpRequest;
  }

  /** A small exchange (activate, check, status): the whole answer as text. */
  async text(endpoint: Endpoint, r: DeviceRequest): Promise<Answer> {
    let text = "";
    const res = await this.exchange(endpoint, r, (chunk) => {
      if (text.length < 64 * 1024) text += chunk.toString("utf8");
      return true;
    });
    return { ...res, text };
  }

  /**
   * A download: `onData` gets each chunk of a 2xx body as it arrives and returns false to drop the
   * connection there (a device losing its link); non-2xx bodies are read as text.
   */
  async stream(endpoint: Endpoint, r: DeviceRequest, onData: (chunk: Buffer) => boolean): Promise<Answer & { dropped: boolean }> {
    let text = "";
    let dropped = false;
    const res = await this.exchange(endpoint, r, (chunk, status) => {
      if (status < 200 || status > 299) {
        text += chunk.toString("utf8");
        return true;
      }
      if (onData(chunk)) return true;
      dropped = true;
      return false;
    });
    return { ...res, text, dropped };
  }

  /** Closes every connection, idle or busy; requests still running fail with NetworkError. */
  close(): void {
    this.closed = true;
    for (const wake of this.waiting.splice(this.head)) wake(); // each finds the pool closed
    this.waiting = [];
    this.head = 0;
    for (const req of this.open) req.destroy();
    this.open.clear();
    this.agent.destroy();
  }

  /**
   * One exchange. A reused keep-alive connection the server closed just as the request went out
   * (ECONNRESET/EPIPE before any answer) is not the server failing: the request goes once more
   * on a fresh connection, as Node's documentation advises (`request.reusedSocket`) and undici does.
   */
  private async exchange(
    endpoint: Endpoint,
    r: DeviceRequest,
    onChunk: (chunk: Buffer, status: number) => boolean,
  ): Promise<{ status: number; headers: IncomingMessage["headers"] }> {
    await this.slot();
    if (this.closed) {
      this.release();
      throw new NetworkError("the fleet stopped");
    }
    try {
      return await this.once(endpoint, r, onChunk, true);
    } catch (err) {
      if (!(err instanceof StaleConnection)) throw err;
      return await this.once(endpoint, r, onChunk, false);
    } finally {
      this.release();
    }
  }

  /**
   * Waits for one of the pool's connections. Devices queue here as a bare callback, not as a
   * request object in the agent's queue: 10,000 devices waiting at once cost ~100 bytes each
   * instead of a ClientRequest each.
   */
  private slot(): Promise<void> {
    if (this.busy < this.o.connections) {
      this.busy++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    if (this.head === this.waiting.length) {
      this.busy--;
      return;
    }
    const next = this.waiting[this.head]!;
    this.waiting[this.head++] = NOOP;
    if (this.head > 4096 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head); // a queue, without shift()'s copying
      this.head = 0;
    }
    next();
  }

  private once(
    endpoint: Endpoint,
    r: DeviceRequest,
    onChunk: (chunk: Buffer, status: number) => boolean,
    mayRetry: boolean,
  ): Promise<{ status: number; headers: IncomingMessage["headers"] }> {
    const m = this.o.metrics;
    return new Promise((resolve, reject) => {
      let started = 0; // when a connection took the request: queueing in the pool is the client's, not the server's
      let bytes = 0;
      let settled = false;
      const headers: Record<string, string | number> = { ...r.headers };
      if (r.body !== undefined) headers["content-length"] = Buffer.byteLength(r.body);
      const req = this.send({
        agent: this.agent,
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        method: r.method,
        path: `${this.base.pathname.replace(/\/+$/, "")}${r.path}`,
        headers,
        timeout: this.o.timeoutMs,
      });
      this.open.add(req);
      let answered = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        this.open.delete(req);
        const code = (err as NodeJS.ErrnoException).code;
        if (mayRetry && !answered && req.reusedSocket && (code === "ECONNRESET" || code === "EPIPE")) {
          reject(new StaleConnection(code));
          return;
        }
        const why = err instanceof NetworkError ? err : new NetworkError((err as NodeJS.ErrnoException).code ?? err.message);
        m.failed(endpoint, `${why.message} (${endpoint}${answered ? ", mid-body" : req.reusedSocket ? ", reused connection" : ""})`);
        reject(why);
      };
      req.on("socket", () => (started = performance.now()));
      req.on("timeout", () => req.destroy(new NetworkError("timeout")));
      req.on("error", fail);
      req.on("response", (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (settled) return;
          if (!onChunk(chunk, status)) {
            // Dropped on purpose: the bytes so far count, the exchange does not.
            settled = true;
            this.open.delete(req);
            m.bytes(bytes);
            req.destroy();
            resolve({ status, headers: res.headers });
          }
        });
        res.on("error", fail);
        res.on("end", () => {
          if (settled) return;
          settled = true;
          this.open.delete(req);
          m.answered(endpoint, status, performance.now() - (started || performance.now()), bytes);
          resolve({ status, headers: res.headers });
        });
      });
      req.end(r.body);
    });
  }
}
