// The files a console capture writes: `<board>.log`, every line stamped with the time since the
// run started (ANSI kept; gaps, closes and cut lines marked), and, when asked, `<board>.raw`,
// every byte exactly as it arrived (no line splitting, nothing stripped, nothing redacted).
// Markers in the .log carry the .raw offset at that moment ("@raw N"): with them `rig raw` maps
// any .log line to its bytes in the .raw (raw-map.ts).
import { createWriteStream, existsSync, mkdirSync, statSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import type { Redactor } from "../../core/redact.ts";
import type { RawLine } from "./line-assembler.ts";

export interface CaptureFilesOptions {
  logFile: string;
  /** where to keep every byte as received; absent: no .raw (e.g. a run with secrets) */
  rawFile?: string;
  /** hides secrets in .log lines (the board echoing a typed password) */
  redactor?: Redactor;
}

/** Appended to a .log line that was cut at the line limit; its rest is the next line. */
export const CUT_MARK = " [cut: line over the limit, continued on the next line]";

export class CaptureFiles {
  private log: WriteStream | undefined;
  private raw: WriteStream | undefined;
  /** bytes in the .raw so far: the offset the next byte gets */
  private rawBytes = 0;

  constructor(private readonly opts: CaptureFilesOptions) {}

  open(onError: (file: string, err: Error) => void): void {
    if (this.log) return;
    mkdirSync(dirname(this.opts.logFile), { recursive: true });
    this.log = createWriteStream(this.opts.logFile, { flags: "a" });
    this.log.on("error", (err) => onError(this.opts.logFile, err));
    const rawFile = this.opts.rawFile;
    if (rawFile) {
      // Appending (a console opened again into the same run dir): offsets continue from the file's end.
      this.rawBytes = existsSync(rawFile) ? statSync(rawFile).size : 0;
      this.raw = createWriteStream(rawFile, { flags: "a" });
      this.raw.on("error", (err) => onError(rawFile, err));
    }
  }

  /**
   * Bytes as they came off the port. Not copied: a serialport read's chunk is a slice of a pool
   * that is never written again at that place (a full pool is replaced, not reused).
   */
  received(chunk: Buffer): void {
    if (!this.raw) return;
    this.raw.write(chunk);
    this.rawBytes += chunk.length;
  }

  lines(lines: RawLine[]): void {
    if (!this.log) return;
    // Patterns still match the real text: only what is written is redacted.
    const redactor = this.opts.redactor?.active ? this.opts.redactor : undefined;
    const bytes = redactor ? lines.map((l) => redactor.bytes(l.raw)) : lines.map((l) => l.raw);
    // One buffer per chunk: stamps (ASCII) and raw line bytes copied in, not re-encoded.
    let size = 0;
    lines.forEach((l, i) => (size += this.stampFor(l.t).length + bytes[i]!.length + (l.cut ? CUT_MARK.length : 0) + 1));
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const [i, l] of lines.entries()) {
      at += out.write(this.stampFor(l.t), at, "latin1");
      at += bytes[i]!.copy(out, at);
      if (l.cut) at += out.write(CUT_MARK, at, "latin1");
      out[at++] = 0x0a;
    }
    this.log.write(out);
  }

  /** A marker line (`--- console lost: … @raw 1234 ---`); `text` is what goes between the dashes. */
  marker(t: number, text: string): void {
    this.log?.write(`${stamp(t)}--- ${text}${this.raw ? ` @raw ${this.rawBytes}` : ""} ---\n`);
  }

  async close(): Promise<void> {
    const streams = [this.log, this.raw].filter((s): s is WriteStream => s !== undefined);
    this.log = undefined;
    this.raw = undefined;
    await Promise.all(streams.map((s) => new Promise<void>((resolve) => s.end(resolve))));
  }

  private lastStampT = -1;
  private lastStamp = "";
  /** Lines of one read share a time: format it once. */
  private stampFor(t: number): string {
    if (t !== this.lastStampT) {
      this.lastStampT = t;
      this.lastStamp = stamp(t);
    }
    return this.lastStamp;
  }
}

/** `[   12.345] `: seconds since run start, aligned so logs read as columns. */
export function stamp(ms: number): string {
  return `[${(Math.max(0, ms) / 1000).toFixed(3).padStart(9)}] `;
}
