// An append-only file written in large batches. A console capture produces a write per read
// (a few KiB, thousands a second at full speed); handing each to fs as its own request costs more
// CPU than everything else the capture does, and competes with the serial reads for libuv's
// thread pool. Here bytes are copied into a block, and a block goes to the file when it is full
// or a moment after its first byte (so `tail -f` stays live), with one write in flight at a time.
import { closeSync, openSync, write, writeSync } from "node:fs";

const BLOCK_BYTES = 256 * 1024;

/** Open files, written out synchronously if the process exits before they are closed (one listener for all). */
const openFiles = new Set<BatchedFile>();
let exitHook = false;
/** how long bytes may wait in a block before they go to the file */
const FLUSH_AFTER_MS = 50;

export class BatchedFile {
  private fd: number | undefined;
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;
  /** full blocks waiting for the write in flight */
  private queue: Buffer[] = [];
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: Array<() => void> = [];

  constructor(
    readonly path: string,
    private readonly onError: (err: Error) => void,
  ) {}

  open(): void {
    if (this.fd !== undefined) return;
    this.fd = openSync(this.path, "a");
    // A harness that exits abruptly still leaves what it captured on disk.
    openFiles.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const f of openFiles) f.flushSync();
      });
    }
  }

  appendBytes(bytes: Buffer): void {
    let from = 0;
    while (from < bytes.length) {
      const n = Math.min(bytes.length - from, this.block.length - this.used);
      bytes.copy(this.block, this.used, from, from + n);
      this.used += n;
      from += n;
      if (this.used === this.block.length) this.seal();
    }
    this.schedule();
  }

  /** ASCII/latin1 text (stamps, markers) */
  appendText(text: string): void {
    if (this.block.length - this.used < text.length) this.seal();
    if (text.length > this.block.length) return this.appendBytes(Buffer.from(text, "latin1"));
    this.used += this.block.write(text, this.used, "latin1");
    this.schedule();
  }

  /** Room for `n` bytes in the current block: the caller writes them at `offset` and calls commit(n). */
  reserve(n: number): { buffer: Buffer; offset: number } | undefined {
    if (n > this.block.length) return undefined;
    if (this.block.length - this.used < n) this.seal();
    return { buffer: this.block, offset: this.used };
  }

  commit(n: number): void {
    this.used += n;
    this.schedule();
  }

  /** Writes everything appended so far; resolves once it is in the file. */
  flush(): Promise<void> {
    this.seal();
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    if (this.fd === undefined) return;
    await this.flush();
    openFiles.delete(this);
    closeSync(this.fd);
    this.fd = undefined;
  }

  private schedule(): void {
    if (this.timer || this.used === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.seal();
    }, FLUSH_AFTER_MS);
    this.timer.unref();
  }

  /** Ends the current block (if it holds anything) and starts writing it. */
  private seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used > 0) {
      this.queue.push(this.block.subarray(0, this.used));
      // The sealed block belongs to the write now; appends go to a fresh one.
      this.block = Buffer.allocUnsafe(BLOCK_BYTES);
      this.used = 0;
    }
    this.pump();
  }

  private pump(): void {
    if (this.writing || this.fd === undefined) return;
    const next = this.queue.shift();
    if (!next) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.writing = true;
    this.writeAll(next, 0);
  }

  private writeAll(buf: Buffer, from: number): void {
    write(this.fd!, buf, from, buf.length - from, null, (err, written) => {
      if (err) {
        this.onError(err);
        this.writing = false;
        return this.pump(); // the rest is dropped with a message, not left to grow
      }
      if (from + written < buf.length) return this.writeAll(buf, from + written);
      this.writing = false;
      this.pump();
    });
  }

  /** At exit: what is still in memory goes to the file now. */
  flushSync(): void {
    if (this.fd === undefined) return;
    try {
      // A write may be in flight: what it holds lands anyway; the rest goes now, in order after it.
      for (const buf of [...this.queue, this.block.subarray(0, this.used)]) writeSync(this.fd, buf);
    } catch {
      // exiting anyway
    }
  }
}
