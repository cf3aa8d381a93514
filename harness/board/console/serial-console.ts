// A board's serial console: captures every byte into the board log from open to close, assembles
// lines, and answers expect / expectNot / settle against them. It survives the port vanishing
// (USB re-enumeration after a reset or power cycle): it marks the gap in the log, waits for the
// path to come back, reopens it and carries on. Writes made while the port is away wait for it.
import { existsSync } from "node:fs";
import { SerialPortStream } from "@serialport/stream";
import { InfraError, TestFailure } from "../../core/errors.ts";
import { formatDuration } from "../../core/duration.ts";
import type { ConsoleLine, ConsolePosition, ConsoleProtocol, ConsoleSince, ExpectMatch, ExpectOptions } from "../types.ts";
import type { Redactor } from "../../core/redact.ts";
import { stripAnsi } from "./ansi.ts";
import { CaptureFiles, stamp } from "./capture-files.ts";
import { LineAssembler, type LineSink } from "./line-assembler.ts";
import { textFrom, toPosition } from "./position.ts";
import { bindingFor, isDevicePath, type PortBinding } from "./console-port.ts";

export { stamp };

export type { PortBinding };
type Port = SerialPortStream;

export interface SerialConsoleOptions {
  board: string;
  /** a device path, or a network console: rfc2217://host:port, tcp://host:port */
  port: string;
  baud: number;
  /** DTR/RTS to set right after each open (the OS asserts both on open); unset: left as opened */
  dtr?: boolean;
  rts?: boolean;
  /** drop DTR/RTS when the port closes (the OS default, true); false keeps boards that reset on DTR from resetting on every reopen */
  hupcl?: boolean;
  lineEnding: string;
  /** how long to wait for a vanished port to come back before failing waits and writes */
  reconnectTimeoutMs: number;
  logFile: string;
  /** `<board>.raw`: every byte exactly as received. Absent: not kept (a run with secrets). */
  rawFile?: string;
  /** hides secrets in the .log (the board echoing what was typed) */
  redactor?: Redactor;
  /** performance.now() at run start: log stamps and line times count from here */
  clockOrigin: number;
  /** serialport binding; default: the native one. For tests. */
  binding?: PortBinding;
  /** lines kept for matching (older ones are only in the log). Default 10,000. */
  maxLines?: number;
  /** how often to look for a vanished port. Default 100 ms. */
  pollIntervalMs?: number;
}

export type ConsoleState = "idle" | "open" | "away" | "released" | "closed";

interface Waiter {
  /** also fed the unterminated line as it grows (a prompt; `partial: true`) */
  partial: boolean;
  line(line: ConsoleLine): void;
  /** the console gave up on the port, or was closed */
  abort(err: Error): void;
}

const LINES_IN_MESSAGE = 10;
const LINES_IN_TAIL = 20;

export class SerialConsole implements ConsoleProtocol {
  readonly port: string;
  private readonly opts: SerialConsoleOptions;
  private readonly maxLines: number;
  private serial: Port | undefined;
  private _state: ConsoleState = "idle";
  private readonly files: CaptureFiles;
  private readonly assembler = new LineAssembler();
  private lines: ConsoleLine[] = [];
  private nextSeq = 0;
  private partialCache: ConsoleLine | undefined;
  private partialDirty = false;
  private lastByteAt = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly lineListeners = new Set<(line: ConsoleLine) => void>();
  private readonly gapListeners = new Set<(message: string) => void>();
  private readonly dataListeners = new Set<(chunk: Buffer) => void>();
  private readonly backListeners = new Set<() => void>();
  private awaySince = 0;
  private gaveUp = false;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(options: SerialConsoleOptions) {
    this.opts = options;
    this.port = options.port;
    this.maxLines = options.maxLines ?? 10_000;
    this.files = new CaptureFiles({
      logFile: options.logFile,
      ...(options.rawFile ? { rawFile: options.rawFile } : {}),
      ...(options.redactor ? { redactor: options.redactor } : {}),
    });
  }

  get state(): ConsoleState {
    return this._state;
  }

  /** ms since the run started */
  private now(): number {
    return performance.now() - this.opts.clockOrigin;
  }

  async open(): Promise<void> {
    if (this._state !== "idle" && this._state !== "closed") return;
    if (isDevicePath(this.port, this.opts.binding) && !existsSync(this.port)) {
      throw new InfraError(`console of board ${this.opts.board}: serial port ${this.port} does not exist`);
    }
    try {
      await this.openPort();
    } catch (err) {
      throw new InfraError(`console of board ${this.opts.board}: cannot open serial port ${this.port}: ${errorText(err)}`, {
        cause: err,
      });
    }
    this.files.open((file, err) => process.stderr.write(`otarig: cannot write ${file}: ${err.message}\n`));
    this._state = "open";
    this.gaveUp = false;
    this.lastByteAt = this.now();
  }

  async close(): Promise<void> {
    if (this._state === "closed" || this._state === "idle") return;
    this.stopPolling();
    this.endPartial();
    this.files.marker(this.now(), "console closed");
    this._state = "closed";
    await this.closePort();
    this.abortWaiters(new InfraError(`console of board ${this.opts.board} was closed while waiting`));
    await this.files.close();
  }

  /**
   * Lets go of the port so another program (a flasher) can open it; the log stays open.
   * `reacquire()` opens it again.
   */
  async release(reason = "released to another program"): Promise<void> {
    if (this._state !== "open" && this._state !== "away") return;
    this.stopPolling();
    this.endPartial();
    this.files.marker(this.now(), `console ${reason}`);
    this._state = "released";
    this.awaySince = this.now();
    await this.closePort();
  }

  /** Reopens the port after `release()`, retrying while it re-enumerates (up to reconnectTimeoutMs). */
  async reacquire(): Promise<void> {
    if (this._state !== "released") return;
    const deadline = performance.now() + this.opts.reconnectTimeoutMs;
    for (;;) {
      try {
        await this.openPort(true);
        if (this._state !== "released") {
          // closed while we were reopening
          await this.closePort();
          return;
        }
        this.comeBack();
        return;
      } catch (err) {
        if (performance.now() >= deadline) {
          // Keep looking in the background, as after a loss, so a later step can still use it.
          this.goneAway(`could not reopen after release: ${errorText(err)}`, true);
          this.abortWaiters(this.lostError());
          throw new InfraError(
            `console of board ${this.opts.board}: serial port ${this.port} did not come back within ${formatDuration(this.opts.reconnectTimeoutMs)}: ${errorText(err)}`,
          );
        }
        await sleep(this.opts.pollIntervalMs ?? 100);
      }
    }
  }

  async write(data: string | Buffer): Promise<void> {
    const port = await this.openPortForUse("write");
    await new Promise<void>((resolve, reject) => {
      port.write(data, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve()))));
    }).catch((err: unknown) => {
      throw new InfraError(`console of board ${this.opts.board}: write to ${this.port} failed: ${errorText(err)}`, { cause: err });
    });
  }

  async send(command: string, options?: { lineEnding?: string; charDelayMs?: number }): Promise<void> {
    const text = command + (options?.lineEnding ?? this.opts.lineEnding);
    const delay = options?.charDelayMs ?? 0;
    if (delay <= 0) return this.write(text);
    // Some boards' UARTs have tiny receive buffers and drop characters typed at full speed.
    for (const ch of text) {
      await this.write(ch);
      await sleep(delay);
    }
  }

  /** Sets the modem control lines on the open port (DTR/RTS reset sequences). */
  async setSignals(signals: { dtr: boolean; rts: boolean }): Promise<void> {
    const port = await this.openPortForUse("set DTR/RTS on");
    await new Promise<void>((resolve, reject) => port.set(signals, (err) => (err ? reject(err) : resolve()))).catch(
      (err: unknown) => {
        throw new InfraError(`console of board ${this.opts.board}: cannot set DTR/RTS on ${this.port}: ${errorText(err)}`, {
          cause: err,
        });
      },
    );
  }

  /**
   * Now: the line the next line will be. If a line is still unterminated (a prompt), the text it
   * holds now is before the mark: a prompt that an earlier step already matched must not match
   * again for the next step, whether or not the board echoes the next command after it.
   */
  mark(): ConsolePosition {
    return { seq: this.nextSeq, offset: this.partialLine()?.text.length ?? 0 };
  }

  expect(pattern: RegExp, options: ExpectOptions): Promise<ExpectMatch> {
    if (this._state === "idle" || this._state === "closed") return Promise.reject(this.notOpen());
    const re = plain(pattern);
    const since = this.resolveSince(options.since);
    const what = `/${pattern.source}/${options.description ? ` (${options.description})` : ""}`;
    const test = (line: ConsoleLine): ExpectMatch | undefined => {
      if (line.cut && !options.partial) return undefined;
      const text = textFrom(line, since);
      const match = text === undefined ? null : re.exec(text);
      if (!match) return undefined;
      return { line, match, groups: { ...match.groups } };
    };
    for (const line of this.linesSince(since)) {
      const m = test(line);
      if (m) return Promise.resolve(m);
    }
    // A line still arriving is matched only when asked: `version=(?<v>[\d.]+)` must not
    // capture "1." of a "1.0.0" whose rest is still on the wire.
    const partial = options.partial ? this.partialLine() : undefined;
    const m = partial && test(partial);
    if (m) return Promise.resolve(m);

    return new Promise<ExpectMatch>((resolve, reject) => {
      const started = performance.now();
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        fn();
      };
      const waiter: Waiter = {
        partial: options.partial ?? false,
        line: (line) => {
          const found = test(line);
          if (found) finish(() => resolve(found));
        },
        abort: (err) => finish(() => reject(err)),
      };
      const timer = setTimeout(() => {
        const waited = formatDuration(performance.now() - started);
        finish(() => reject(this.timeoutError(`timed out after ${waited} waiting for ${what}`)));
      }, options.withinMs);
      this.waiters.add(waiter);
      if (this.gaveUp) this.abortIfStillAway(waiter, what);
    });
  }

  expectNot(pattern: RegExp, options: { forMs: number; since?: ConsoleSince; partial?: boolean }): Promise<void> {
    if (this._state === "idle" || this._state === "closed") return Promise.reject(this.notOpen());
    const re = plain(pattern);
    const since = this.resolveSince(options.since);
    const seen = (line: ConsoleLine): boolean => {
      if (line.cut && !options.partial) return false;
      const text = textFrom(line, since);
      return text !== undefined && re.test(text);
    };
    const failure = (line: ConsoleLine) =>
      new TestFailure(`board ${this.opts.board} printed /${pattern.source}/, which must not appear: "${line.text}"`, {
        consoleTail: this.tail(LINES_IN_TAIL),
      });
    for (const line of this.linesSince(since)) if (seen(line)) return Promise.reject(failure(line));
    const partial = options.partial ? this.partialLine() : undefined;
    if (partial && seen(partial)) return Promise.reject(failure(partial));
    if (options.forMs <= 0) return Promise.resolve();

    return new Promise<void>((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        fn();
      };
      const waiter: Waiter = {
        partial: options.partial ?? false,
        line: (line) => {
          if (seen(line)) finish(() => reject(failure(line)));
        },
        abort: (err) => finish(() => reject(err)),
      };
      const timer = setTimeout(() => finish(resolve), options.forMs);
      this.waiters.add(waiter);
    });
  }

  async settle(quietMs: number, withinMs: number): Promise<void> {
    const started = performance.now();
    for (;;) {
      const quietFor = this.now() - this.lastByteAt;
      if (quietFor >= quietMs) return;
      const elapsed = performance.now() - started;
      if (elapsed >= withinMs) {
        throw new TestFailure(
          `board ${this.opts.board} did not go quiet for ${formatDuration(quietMs)} within ${formatDuration(withinMs)}`,
          { consoleTail: this.tail(LINES_IN_TAIL) },
        );
      }
      await sleep(Math.min(quietMs - quietFor, withinMs - elapsed) + 1);
    }
  }

  /** The last `n` lines (ANSI stripped), including an unterminated prompt at the end. */
  tail(n: number): string[] {
    const partial = this.partialLine();
    const fromLines = partial ? n - 1 : n;
    const out = fromLines > 0 ? this.lines.slice(-fromLines).map((l) => l.text) : [];
    if (partial) out.push(partial.text);
    return out.slice(-n);
  }

  onLine(listener: (line: ConsoleLine) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  /** Raw bytes as they arrive (ANSI and all), e.g. for an interactive terminal. */
  onData(listener: (chunk: Buffer) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  /** Called with the marker text when the console loses the port, gets it back, or gives up. */
  onGap(listener: (message: string) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  // ---- port handling ----

  /** `takeBack`: after release(), where what is in flight on the port must not be flushed (pty-reopen.ts) */
  private async openPort(takeBack = false): Promise<void> {
    const { baud, dtr, rts, hupcl, binding } = this.opts;
    const port: Port = new SerialPortStream({
      path: this.port,
      baudRate: baud,
      autoOpen: false,
      hupcl: hupcl ?? true,
      binding: bindingFor(this.port, binding, takeBack),
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    if (dtr !== undefined || rts !== undefined) {
      const lines = { dtr: dtr ?? true, rts: rts ?? true };
      await new Promise<void>((resolve, reject) => port.set(lines, (err) => (err ? reject(err) : resolve()))).catch((err: unknown) => {
        port.close(() => {});
        throw err;
      });
    }
    port.on("data", (chunk: Buffer) => {
      if (port === this.serial) this.handleData(chunk);
    });
    port.on("close", (err: Error | null) => {
      if (port === this.serial) {
        this.serial = undefined;
        this.goneAway(err ? errorText(err) : "port closed");
      }
    });
    // An 'error' without a listener would crash the process; real losses also arrive as 'close'.
    port.on("error", () => {});
    this.serial = port;
    if (isDevicePath(this.port, this.opts.binding)) this.watchPath(port);
  }

  /**
   * The port's path vanishing (USB unplug, re-enumeration, a PTY pair torn down) is a loss even
   * when the poller has not reported an error yet: under load it can be late, or never come.
   */
  private watchPath(port: Port): void {
    const timer = setInterval(() => {
      if (port !== this.serial || this._state !== "open") return clearInterval(timer);
      if (existsSync(this.port)) return;
      clearInterval(timer);
      this.serial = undefined;
      port.close(() => {});
      this.goneAway(`${this.port} disappeared`);
    }, 250);
    timer.unref();
  }

  private async closePort(): Promise<void> {
    const port = this.serial;
    this.serial = undefined;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** The port to write to; while it is away, waits for it (up to reconnectTimeoutMs). */
  private async openPortForUse(action: string): Promise<Port> {
    if (this._state === "away" || this._state === "released") {
      const back = await this.waitBack(this.opts.reconnectTimeoutMs);
      if (!back) {
        throw new InfraError(
          `console of board ${this.opts.board}: cannot ${action} ${this.port}: the port has been away for ${formatDuration(this.now() - this.awaySince)}`,
        );
      }
    }
    const port = this.serial;
    if (this._state !== "open" || !port) {
      throw new InfraError(`console of board ${this.opts.board}: cannot ${action} ${this.port}: console is ${this._state}`);
    }
    return port;
  }

  private waitBack(timeoutMs: number): Promise<boolean> {
    if (this._state === "open") return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.backListeners.delete(onBack);
        resolve(ok);
      };
      const onBack = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.backListeners.add(onBack);
    });
  }

  /** The port vanished (or could not be reopened): mark the gap and look for it until it returns. */
  private goneAway(reason: string, alreadyGaveUp = false): void {
    if (this._state !== "open" && this._state !== "released") return;
    this.endPartial();
    if (this._state === "open") {
      this.awaySince = this.now();
      this.gap(`console lost: ${this.port} went away (${reason})`);
    }
    this._state = "away";
    this.gaveUp = alreadyGaveUp;
    const interval = this.opts.pollIntervalMs ?? 100;
    const poll = async () => {
      this.pollTimer = undefined;
      if (this._state !== "away") return;
      if (!isDevicePath(this.port, this.opts.binding) || existsSync(this.port)) {
        try {
          await this.openPort();
        } catch {
          // still re-enumerating (or permissions not applied yet by udev): try again
        }
        if (this._state !== "away") {
          // closed or released while we were opening
          await this.closePort();
          return;
        }
        if (this.serial) return this.comeBack();
      }
      if (!this.gaveUp && this.now() - this.awaySince >= this.opts.reconnectTimeoutMs) {
        this.gaveUp = true;
        this.gap(`console not back after ${formatDuration(this.now() - this.awaySince)}: still looking`);
        this.abortWaiters(this.lostError());
      }
      this.pollTimer = setTimeout(() => void poll(), interval);
    };
    this.pollTimer = setTimeout(() => void poll(), interval);
  }

  private comeBack(): void {
    this._state = "open";
    this.gaveUp = false;
    this.lastByteAt = this.now();
    this.gap(`console back after ${formatDuration(this.now() - this.awaySince)}`);
    for (const l of [...this.backListeners]) l();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private notOpen(): InfraError {
    return new InfraError(`console of board ${this.opts.board} (${this.port}) is not open`);
  }

  private lostError(): InfraError {
    return new InfraError(
      `console of board ${this.opts.board}: serial port ${this.port} vanished ${formatDuration(this.now() - this.awaySince)} ago and has not come back`,
      { consoleTail: this.tail(LINES_IN_TAIL) },
    );
  }

  /** A wait started after the console gave up: give the port one more reconnect window, then fail. */
  private abortIfStillAway(waiter: Waiter, what: string): void {
    void this.waitBack(this.opts.reconnectTimeoutMs).then((back) => {
      if (!back && this.waiters.has(waiter)) {
        const err = this.lostError();
        err.message += ` (while waiting for ${what})`;
        waiter.abort(err);
      }
    });
  }

  private timeoutError(message: string): Error {
    const tail = this.tail(LINES_IN_TAIL);
    if (this._state === "away" || this._state === "released") {
      return new InfraError(`${message} on board ${this.opts.board}; the console port ${this.port} is away`, {
        consoleTail: tail,
      });
    }
    const last = tail.slice(-LINES_IN_MESSAGE);
    const shown = last.length ? `; last ${last.length} lines:\n${last.map((l) => `  | ${l}`).join("\n")}` : "; the board printed nothing";
    return new TestFailure(`${message} on board ${this.opts.board}${shown}`, { consoleTail: tail });
  }

  private abortWaiters(err: Error): void {
    for (const w of [...this.waiters]) w.abort(err);
  }

  // ---- capture ----

  private handleData(chunk: Buffer): void {
    const t = this.now();
    this.lastByteAt = t;
    this.files.received(chunk);
    for (const l of this.dataListeners) notify(l, chunk);
    this.assembler.feed(chunk, t, this.sink);
    this.partialDirty = true;
    this.partialCache = undefined;
    if (this.waiters.size) {
      let partial: ConsoleLine | undefined | null = null;
      for (const w of [...this.waiters]) {
        if (!w.partial) continue;
        if (partial === null) partial = this.partialLine();
        if (partial) w.line(partial);
      }
    }
  }

  /** Each completed line: into the log as bytes, into the history (and to waiters) as text. */
  private readonly sink: LineSink = {
    line: (bytes, start, end, t, _at, cut) => {
      this.files.line(bytes, start, end, t, cut ? "limit" : undefined);
      this.addLine(t, decodeUtf8(bytes, start, end));
    },
  };

  /** A line into the history and to the listeners and waiters: `printed` as it came, matched without its escapes. */
  private addLine(t: number, printed: string, cut = false): void {
    const text = stripAnsi(printed);
    const line: ConsoleLine = { seq: this.nextSeq++, t, text };
    if (text !== printed) line.printed = printed;
    if (cut) line.cut = true;
    this.lines.push(line);
    if (this.lines.length > this.maxLines + 1000) {
      // Trim in batches so the array is not shifted on every line.
      this.lines.splice(0, this.lines.length - this.maxLines);
    }
    for (const l of this.lineListeners) notify(l, line);
    // A Set may lose members while it is iterated (a waiter that matched removes itself): no copy per line.
    for (const w of this.waiters) w.line(line);
  }

  /** The unterminated tail as a line with the seq it will get when it ends. */
  private partialLine(): ConsoleLine | undefined {
    if (!this.partialDirty) return this.partialCache;
    this.partialDirty = false;
    const raw = this.assembler.partial();
    this.partialCache = raw && { seq: this.nextSeq, t: raw.t, text: stripAnsi(decodeUtf8(raw.raw, 0, raw.raw.length)), partial: true };
    return this.partialCache;
  }

  /**
   * Ends an unterminated line (before a gap or close) so the log and the lines keep it, marked as
   * cut: its end never came, so it is never matched as a whole line.
   */
  private endPartial(): void {
    const raw = this.assembler.flush();
    this.partialDirty = true;
    this.partialCache = undefined;
    if (!raw) return;
    this.files.line(raw.raw, 0, raw.raw.length, raw.t, "gap");
    this.addLine(raw.t, decodeUtf8(raw.raw, 0, raw.raw.length), true);
  }

  private *linesSince(since: ConsolePosition): Iterable<ConsoleLine> {
    const first = this.lines[0]?.seq ?? this.nextSeq;
    for (let i = Math.max(0, since.seq - first); i < this.lines.length; i++) yield this.lines[i]!;
  }

  private resolveSince(since: ConsoleSince | undefined): ConsolePosition {
    return since === undefined ? this.mark() : toPosition(since);
  }

  /** A gap in the capture: marked in the log (with the .raw offset) and told to the gap listeners. */
  private gap(text: string): void {
    this.files.marker(this.now(), text);
    for (const l of this.gapListeners) notify(l, `--- ${text} ---`);
  }
}


/**
 * A line's bytes as text. Buffer's own utf8Slice, without toString()'s argument handling around
 * it: this runs on every line a board prints.
 */
function decodeUtf8(bytes: Buffer, start: number, end: number): string {
  return (bytes as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end);
}

/** A listener that throws (a broken reporter) must not break capture. */
function notify<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (err) {
    process.stderr.write(`otarig: console listener failed: ${errorText(err)}\n`);
  }
}

/** A copy without g/y flags: exec() on those keeps lastIndex state between calls. */
function plain(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, "")) : re;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
