// Writes commands to a relay module on a serial port. The port stays open until close() by
// default: each open flushes the line (tcflush), which on a PTY also throws away bytes the other
// end has not read yet, and on CH340 modules toggles DTR. `keepOpen: false` opens per command,
// for a module that other tools must be able to use between commands.
// Commands are queued, so two channels switched at once never interleave their bytes.
// With a `guard` (a short lock on the module's port, shared with other runs) the port is opened,
// written and closed inside the guard for each command: one module serves boards of several runs.
import { existsSync } from "node:fs";
import { SerialPort } from "serialport";
import { InfraError } from "../../core/errors.ts";
import { formatDuration } from "../../core/duration.ts";

export interface SerialWriterOptions {
  port: string;
  baud: number;
  /** for error messages: "relay r1" */
  what: string;
  /** default true */
  keepOpen?: boolean;
  /** a write that has not drained by then means the module is not answering. Default 3 s. */
  timeoutMs?: number;
  /** runs each command under a lock shared with other processes; implies keepOpen: false */
  guard?: SwitchGuard;
}

const SHARED_HOLD_MS = 50;

export type SwitchGuard = <T>(fn: () => Promise<T>) => Promise<T>;

export class SerialWriter {
  private port: SerialPort | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SerialWriterOptions) {}

  write(data: Buffer | string): Promise<void> {
    const guard = this.options.guard;
    const run = this.queue.then(() => (guard ? guard(() => this.writeNow(data)) : this.writeNow(data)));
    this.queue = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.closePort();
  }

  private async writeNow(data: Buffer | string): Promise<void> {
    const { what, port: path } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 3000;
    const port = await this.openPort();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) =>
          port.write(data, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve())))),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`write did not complete within ${formatDuration(timeoutMs)}`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      await this.closePort();
      throw new InfraError(`${what}: not answering on ${path}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    if (this.options.guard) {
      // Another process opens the port next, and an open flushes the line: on a PTY that throws
      // away bytes the far end has not read yet. Give them a moment to go before letting go.
      await new Promise((r) => setTimeout(r, SHARED_HOLD_MS));
    }
    if (this.options.keepOpen === false || this.options.guard) await this.closePort();
  }

  private async openPort(): Promise<SerialPort> {
    if (this.port?.isOpen) return this.port;
    const { what, port: path, baud } = this.options;
    if (!existsSync(path)) throw new InfraError(`${what}: serial port ${path} does not exist`);
    const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
    port.on("error", () => {}); // reported through the callbacks; an unhandled 'error' would crash the run
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve()))).catch((err: unknown) => {
      throw new InfraError(`${what}: cannot open serial port ${path}: ${(err as Error).message}`, { cause: err });
    });
    this.port = port;
    return port;
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
