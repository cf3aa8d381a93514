// A QMP client (QEMU's JSON machine protocol) over a unix socket: each command carries an `id`
// that QEMU copies into its reply, so a reply finds its own command even after an earlier one
// timed out (its entry is dropped; its late reply is ignored); events are passed to a listener.
// Used for `cont` after the console is open, `system_reset`, and `query-status`.
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { InfraError } from "../../core/errors.ts";

export interface QmpEvent {
  event: string;
  data?: unknown;
}

export class QmpClient {
  private buffer = "";
  private pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; command: string }>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly onEvent: (e: QmpEvent) => void,
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => this.take(text));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.greetingWaiter?.(false);
      this.greetingWaiter = undefined;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting) p.reject(new InfraError(`QMP: connection closed before the reply to ${p.command}`));
    });
  }

  /** Connects (retrying while QEMU creates the socket), reads the greeting and enters command mode. */
  static async connect(path: string, options: { timeoutMs: number; onEvent?: (e: QmpEvent) => void; alive?: () => boolean }): Promise<QmpClient> {
    const deadline = Date.now() + options.timeoutMs;
    let lastError = "";
    for (;;) {
      if (options.alive && !options.alive()) throw new InfraError(`QMP: QEMU exited before its monitor socket ${shown(path)} answered`);
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once("connect", () => resolve(s));
          s.once("error", reject);
        });
        const client = new QmpClient(socket, options.onEvent ?? (() => {}));
        try {
          await client.greeting(Math.max(1000, deadline - Date.now()));
          await client.execute("qmp_capabilities");
        } catch (err) {
          client.close(); // the next attempt opens a socket of its own
          throw err;
        }
        return client;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) throw new InfraError(`QMP: no answer on ${shown(path)} within ${options.timeoutMs} ms (${lastError})`);
      await sleep(50);
    }
  }

  private greetingWaiter: ((ok: boolean) => void) | undefined;

  private greeting(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new InfraError(`QMP: no greeting within ${timeoutMs} ms`)), timeoutMs);
      this.greetingWaiter = (ok) => {
        clearTimeout(timer);
        if (ok) resolve();
        else reject(new InfraError("QMP: the monitor closed before its greeting"));
      };
    });
  }

  private take(text: string): void {
    this.buffer += text;
    for (let i = this.buffer.indexOf("\n"); i >= 0; i = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, i).trim();
      this.buffer = this.buffer.slice(i + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ("QMP" in msg) {
        this.greetingWaiter?.(true);
        this.greetingWaiter = undefined;
      } else if (typeof msg.event === "string") {
        this.onEvent({ event: msg.event, data: msg.data });
      } else if ("return" in msg || "error" in msg) {
        // By id only: a reply without one, or to a command that timed out, belongs to no one waiting.
        const id = typeof msg.id === "string" ? msg.id : undefined;
        const p = id === undefined ? undefined : this.pending.get(id);
        if (!p) continue;
        this.pending.delete(id!);
        if ("error" in msg) {
          const e = msg.error as { class?: string; desc?: string };
          p.reject(new InfraError(`QMP ${p.command}: ${e.class ?? "error"}: ${e.desc ?? JSON.stringify(msg.error)}`));
        } else p.resolve(msg.return);
      }
    }
  }

  execute(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
    if (this.closed) return Promise.reject(new InfraError(`QMP: cannot send ${command}: the monitor is closed`));
    const id = `otarig-${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new InfraError(`QMP: no reply to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A socket path for messages: an abstract name (leading NUL) as `@name`, as ss and /proc/net/unix show it. */
function shown(path: string): string {
  return path.startsWith("\0") ? `@${path.slice(1)}` : path;
}
