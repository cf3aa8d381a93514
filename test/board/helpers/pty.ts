// Real peers for board tests: a socat pseudo-terminal pair, the harness on one end and a tiny
// device emulator (opened with serialport, like the harness) on the other.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { SerialConsole, type SerialConsoleOptions } from "../../../harness/board/console/serial-console.ts";

export function tempDir(prefix = "otarig-board-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class PtyPair {
  /** the device's end */
  readonly device: string;
  /** the harness's end */
  readonly host: string;
  private proc: ChildProcess | undefined;

  constructor(dir: string, name = "pty") {
    this.device = join(dir, `${name}-dev`);
    this.host = join(dir, `${name}-host`);
  }

  async start(): Promise<void> {
    const proc = spawn("socat", ["-d", `pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.host}`], {
      stdio: "ignore",
    });
    this.proc = proc;
    await waitFor(() => existsSync(this.device) && existsSync(this.host), 5000, "socat links");
  }

  /**
   * Kills socat. SIGTERM: it removes its links, like a USB device vanishing from /dev/serial/by-id.
   * SIGKILL: the links stay, dangling, until a new socat replaces them.
   */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    await exited;
    await waitFor(() => !existsSync(this.host), 5000, "the PTY to vanish");
  }
}

/** The device side: collects what the harness sends, lets the test print as the board. */
export class Peer {
  received = Buffer.alloc(0);
  private constructor(readonly port: SerialPort) {
    port.on("data", (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
    });
    port.on("error", () => {});
  }

  static async open(path: string, baudRate = 115200): Promise<Peer> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new Peer(port);
  }

  async print(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.port.write(data, (err) => (err ? reject(err) : this.port.drain((e) => (e ? reject(e) : resolve())))),
    );
  }

  async waitReceived(length: number, timeoutMs = 5000): Promise<Buffer> {
    await waitFor(() => this.received.length >= length, timeoutMs, `${length} bytes at the peer`);
    return this.received;
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

export function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** A console on the host end of a fresh PTY pair, the device end open as `peer`: the usual board-test set-up. */
export async function consoleOnPty(
  options: Partial<SerialConsoleOptions> = {},
  prefix?: string,
): Promise<{ tmp: ReturnType<typeof tempDir>; pty: PtyPair; peer: Peer; con: SerialConsole; close(): Promise<void> }> {
  const tmp = tempDir(prefix);
  const pty = new PtyPair(tmp.dir);
  await pty.start();
  const peer = await Peer.open(pty.device);
  const con = new SerialConsole({
    board: "dut",
    port: pty.host,
    baud: 115200,
    lineEnding: "\n",
    reconnectTimeoutMs: 5000,
    logFile: join(tmp.dir, "dut.log"),
    clockOrigin: performance.now(),
    ...options,
  });
  await con.open();
  const close = async () => {
    await con.close();
    await peer.close();
    await pty.stop();
    tmp.cleanup();
  };
  return { tmp, pty, peer, con, close };
}
