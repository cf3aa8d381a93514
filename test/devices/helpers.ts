// Test helpers for the virtual devices: a console reader on the harness end of a PTY pair, a
// tiny stand-in OTA server on real sockets, and the flasher run as a program.
import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SerialPort } from "serialport";
import { sha256 } from "../../devices/firmware-image.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const FIRMWARE = join(ROOT, "fixtures", "firmware");

/** Reads a serial port line by line; `expect` waits for a line matching a regex. */
export class ConsoleReader {
  readonly lines: string[] = [];
  private partial = "";
  private waiters: Array<() => void> = [];
  private constructor(private readonly port: SerialPort) {
    port.on("data", (chunk: Buffer) => {
      this.partial += chunk.toString("utf8");
      const parts = this.partial.split("\n");
      this.partial = parts.pop() ?? "";
      for (const p of parts) this.lines.push(p.replace(/\r$/, ""));
      for (const w of this.waiters) w();
    });
  }

  static async open(path: string): Promise<ConsoleReader> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((ok, fail) => port.open((err) => (err ? fail(err) : ok())));
    return new ConsoleReader(port);
  }

  /** Index the next line will get: pass to `expect` to only look at what comes after. */
  mark(): number {
    return this.lines.length;
  }

  /** The text after the last newline (an unterminated prompt). */
  get pending(): string {
    return this.partial;
  }

  async expect(pattern: RegExp, options: { since?: number; timeoutMs?: number } = {}): Promise<RegExpExecArray> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    let from = options.since ?? 0;
    return new Promise((ok, fail) => {
      const check = (): boolean => {
        for (; from < this.lines.length; from++) {
          const m = pattern.exec(this.lines[from]!);
          if (m) {
            from++;
            ok(m);
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        fail(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; console:\n${this.lines.slice(-25).join("\n")}\n${this.partial}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Waits for the prompt after the lines seen so far. */
  async prompt(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.partial !== "ota> ") {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the prompt; console:\n${this.lines.slice(-10).join("\n")}\n${this.partial}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends a command; returns the mark before it, for `expect(…, { since })`. */
  send(command: string): number {
    const mark = this.mark();
    this.partial = "";
    this.port.write(`${command}\n`);
    return mark;
  }

  /** Sends a command and waits for a line matching `pattern` after it. */
  async run(command: string, pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
    const since = this.send(command);
    return this.expect(pattern, { since, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  close(): Promise<void> {
    return new Promise((ok) => (this.port.isOpen ? this.port.close(() => ok()) : ok()));
  }
}

export interface StatusReport {
  device: string;
  hash: string;
  state: string;
  message: string;
  /** the image the device runs as it reports */
  running?: string;
}

/**
 * A stand-in for the OTA server's device endpoints (check, download with Range, status,
 * activate), with knobs for faults. Real sockets, real HTTP.
 */
export class FakeOtaServer {
  /** the image on offer, by its hash */
  images = new Map<string, Buffer>();
  /** the hash `check` offers; undefined = nothing uploaded */
  target: string | undefined;
  /** bytes per write and pause between writes of a download, to make it slow enough to cut */
  sliceBytes = 8 * 1024;
  slicePauseMs = 5;
  /** flips a byte of every download body (corruption in flight) */
  corrupt = false;
  /** cuts the next download's connection after this many body bytes (then resets) */
  dropAfterBytes: number | undefined;
  /** stops sending the next download after this many body bytes, holding the connection open until the client goes (then resets) */
  stallAfterBytes: number | undefined;
  /** provisioning content by id */
  content = new Map<string, Buffer>();
  /** `Range` headers the downloads carried, in order ("" when none) */
  readonly ranges: string[] = [];
  readonly statuses: StatusReport[] = [];
  readonly checks: Array<{ hash: string; headers: IncomingMessage["headers"] }> = [];
  allowedDevices: Set<string> | "all" = "all";
  cik = "0123456789abcdef0123456789abcdef01234567";
  private server: Server | undefined;

  /** Offers `bytes` as the update; returns its hash. */
  offer(bytes: Buffer): string {
    const hash = sha256(bytes);
    this.images.set(hash, bytes);
    this.target = hash;
    return hash;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((ok) => this.server!.listen(0, "127.0.0.1", ok));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const device = String(req.headers["x-ota-device-id"] ?? "");
    const error = (status: number, code: string) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: status, code, message: code }));
    };
    let m: RegExpExecArray | null;
    if ((m = /^\/v1\/check\/([0-9a-fA-F]*)$/.exec(path))) {
      this.checks.push({ hash: m[1]!, headers: req.headers });
      if (this.allowedDevices !== "all" && !this.allowedDevices.has(device)) return error(401, "INVALID_AUTH");
      if (!this.target) return error(404, "FIRMWARE_NOT_UPLOADED");
      if (this.target === m[1]!.toLowerCase()) return void res.writeHead(204).end();
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ hash: this.target }));
    }
    if ((m = /^\/v1\/download\/([0-9a-f]{64})$/.exec(path))) {
      const image = this.images.get(m[1]!);
      if (!image) return error(404, "FIRMWARE_NOT_AVAILABLE");
      return this.sendRanged(req, res, image);
    }
    if (path === "/provision/download") {
      if (req.headers["x-exosite-cik"] !== this.cik) return void res.writeHead(401).end();
      const q = new URL(req.url ?? "/", "http://x").searchParams;
      const bytes = q.get("vendor") === "acme" && q.get("model") === "m1" ? this.content.get(q.get("id") ?? "") : undefined;
      if (!bytes) return void res.writeHead(404).end();
      return this.sendRanged(req, res, bytes);
    }
    if (path === "/v1/status" && req.method === "POST") {
      const report = JSON.parse(body.toString("utf8")) as Omit<StatusReport, "device">;
      this.statuses.push({ device, ...report });
      return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    }
    if (path === "/provision/activate" && req.method === "POST") {
      const form = new URLSearchParams(body.toString("utf8"));
      if (form.get("vendor") !== "acme" || form.get("model") !== "m1") return void res.writeHead(404).end("unknown vendor/model");
      return void res.writeHead(200, { "content-type": "text/plain" }).end(this.cik);
    }
    error(404, "NOT_FOUND");
  }

  private async sendRanged(req: IncomingMessage, res: ServerResponse, image: Buffer): Promise<void> {
    const range = String(req.headers.range ?? "");
    this.ranges.push(range);
    let start = 0;
    const r = /^bytes=(\d+)-$/.exec(range);
    if (r) {
      start = Number(r[1]);
      if (start >= image.length) return void res.writeHead(416, { "content-range": `bytes */${image.length}` }).end();
      res.writeHead(206, { "content-length": image.length - start, "content-range": `bytes ${start}-${image.length - 1}/${image.length}`, "accept-ranges": "bytes" });
    } else {
      res.writeHead(200, { "content-length": image.length, "accept-ranges": "bytes" });
    }
    const bytes = Buffer.from(image.subarray(start));
    if (this.corrupt && bytes.length > 100) bytes[100] = bytes[100]! ^ 0xff;
    const dropAt = this.dropAfterBytes;
    const stallAt = this.stallAfterBytes;
    this.dropAfterBytes = this.stallAfterBytes = undefined;
    for (let i = 0; i < bytes.length && !res.destroyed; i += this.sliceBytes) {
      if (dropAt !== undefined && i >= dropAt) return void res.destroy(); // the network goes away
      if (stallAt !== undefined && i >= stallAt) return; // the client's power cut ends it
      res.write(bytes.subarray(i, i + this.sliceBytes));
      await new Promise((r2) => setTimeout(r2, this.slicePauseMs));
    }
    res.end();
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => ok(Buffer.concat(parts)));
    req.on("error", fail);
  });
}

/** Runs the virtual flasher; resolves with its exit code and output. */
export function runFlasher(flashDir: string, image: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, ["--import", "tsx", join(ROOT, "devices", "flasher.ts"), "--flash-dir", flashDir, image], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
      ok({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
