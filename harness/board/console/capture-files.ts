// The files a console capture writes: `<board>.log`, every line stamped with the time since the
// run started (ANSI kept; gaps, closes and cut lines marked), and, when asked, `<board>.raw`,
// every byte exactly as it arrived (no line splitting, nothing stripped, nothing redacted).
// Markers in the .log carry the .raw offset at that moment ("@raw N"): with them `rig raw` maps
// any .log line to its bytes in the .raw (raw-map.ts).
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { Redactor } from "../../core/redact.ts";
import { BatchedFile } from "./batched-file.ts";

export interface CaptureFilesOptions {
  logFile: string;
  /** where to keep every byte as received; absent: no .raw (e.g. a run with secrets) */
  rawFile?: string;
  /** hides secrets in .log lines (the board echoing a typed password) */
  redactor?: Redactor;
}

/** Appended to a .log line that was cut at the line limit; its rest is the next line. */
export const CUT_MARK = " [cut: line over the limit, continued on the next line]";
/** Appended to a .log line whose end never came: the port was lost, released or closed mid-line (the marker that follows says which). */
export const ENDED_MARK = " [cut: the line had not ended]";

/** Why a line ended without its terminator: the line limit, or the console going away. */
export type LineCut = "limit" | "gap";

export function cutMark(cut: LineCut | undefined): string {
  return cut === "limit" ? CUT_MARK : cut === "gap" ? ENDED_MARK : "";
}

export class CaptureFiles {
  private log: BatchedFile | undefined;
  private raw: BatchedFile | undefined;
  /** bytes in the .raw so far: the offset the next byte gets */
  private rawBytes = 0;

  constructor(private readonly opts: CaptureFilesOptions) {}

  open(onError: (file: string, err: Error) => void): void {
    if (this.log) return;
    mkdirSync(dirname(this.opts.logFile), { recursive: true });
    this.log = new BatchedFile(this.opts.logFile, (err) => onError(this.opts.logFile, err));
    this.log.open();
    const rawFile = this.opts.rawFile;
    if (rawFile) {
      // Appending (a console opened again into the same run dir): offsets continue from the file's end.
      this.rawBytes = existsSync(rawFile) ? statSync(rawFile).size : 0;
      this.raw = new BatchedFile(rawFile, (err) => onError(rawFile, err));
      this.raw.open();
    }
  }

  /** Bytes as they came off the port. */
  received(chunk: Buffer): void {
    if (!this.raw) return;
    this.raw.appendBytes(chunk);
    this.rawBytes += chunk.length;
  }

  /** One line of the board's: bytes [start, end) of `bytes`, stamped with `t`; `cut` if it ended without its terminator. */
  line(bytes: Buffer, start: number, end: number, t: number, cut?: LineCut): void {
    if (!this.log) return;
    // Patterns still match the real text: only what is written is redacted.
    if (this.opts.redactor?.active) {
      bytes = this.opts.redactor.bytes(bytes.subarray(start, end));
      start = 0;
      end = bytes.length;
    }
    const stampBytes = this.stampFor(t);
    const mark = cutMark(cut);
    const size = stampBytes.length + (end - start) + mark.length + 1;
    // Straight into the file's current block (one copy), or, for an outsize line, a buffer of its own.
    const room = this.log.reserve(size);
    const out = room?.buffer ?? Buffer.allocUnsafe(size);
    let at = room?.offset ?? 0;
    // A stamp is a dozen bytes: a plain loop beats a call into copy().
    for (let k = 0; k < stampBytes.length; k++) out[at + k] = stampBytes[k]!;
    at += stampBytes.length;
    at += bytes.copy(out, at, start, end);
    if (mark) at += out.write(mark, at, "latin1");
    out[at] = 0x0a;
    if (room) this.log.commit(size);
    else this.log.appendBytes(out);
  }

  /** A marker line (`--- console lost: … @raw 1234 ---`); `text` is what goes between the dashes. */
  marker(t: number, text: string): void {
    this.log?.appendBytes(Buffer.from(`${stamp(t)}--- ${text}${this.raw ? ` @raw ${this.rawBytes}` : ""} ---\n`, "utf8"));
  }

  async close(): Promise<void> {
    const files = [this.log, this.raw].filter((f): f is BatchedFile => f !== undefined);
    this.log = undefined;
    this.raw = undefined;
    await Promise.all(files.map((f) => f.close()));
  }

  private lastStampT = -1;
  private lastStamp = Buffer.alloc(0);
  /** Lines of one read share a time: format it once. */
  private stampFor(t: number): Buffer {
    if (t !== this.lastStampT) {
      this.lastStampT = t;
      this.lastStamp = Buffer.from(stamp(t), "latin1");
    }
    return this.lastStamp;
  }
}

/** `[   12.345] `: seconds since run start, aligned so logs read as columns. */
export function stamp(ms: number): string {
  return `[${(Math.max(0, ms) / 1000).toFixed(3).padStart(9)}] `;
}
