// Turns a byte stream into lines. Boards end lines with "\r\n", "\n" or a lone "\r" (progress
// bars), and a read can end anywhere, including between "\r" and "\n". Splitting works on bytes:
// CR and LF never occur inside a UTF-8 sequence, so a line's bytes always decode cleanly.
//
// The result does not depend on how the bytes were split into reads (a replay of the .raw file
// in any chunk size gives the same lines: see raw-map.ts), including where an over-long line is cut.

export interface RawLine {
  /** the line's bytes, without its terminator (ANSI escapes kept) */
  raw: Buffer;
  /** time the line's first byte arrived */
  t: number;
  /** offset of the line's first byte in the stream (counted from the assembler's first byte) */
  at: number;
  /** the line was longer than the limit: these are its first bytes, the rest comes as the next line(s) */
  cut?: boolean;
}

/**
 * Receives each line as it completes: bytes [start, end) of `bytes`, which may be the caller's
 * chunk (valid only during the call: copy what you keep). No object per line.
 */
export interface LineSink {
  line(bytes: Buffer, start: number, end: number, t: number, at: number, cut: boolean): void;
}

const LF = 0x0a;
const CR = 0x0d;

export const MAX_LINE_BYTES = 64 * 1024;

export class LineAssembler {
  private parts: Buffer[] = [];
  private partLength = 0;
  private partStart = 0;
  private partAt = 0;
  /** bytes pushed before the current chunk */
  private consumed = 0;
  /** after a CR: "emitted" if it ended a line (a following LF is part of that terminator), "empty" if it ended nothing */
  private afterCR: "no" | "emitted" | "empty" = "no";

  /**
   * @param maxLineBytes a line longer than this is cut into pieces of this size (each but the
   * last marked `cut`), so line noise cannot grow memory without bound
   */
  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /**
   * Feeds a chunk; returns the lines it completed. A returned line's bytes may be a view into
   * `chunk`: use or copy them before the caller reuses that buffer.
   */
  push(chunk: Buffer, t: number): RawLine[] {
    const out: RawLine[] = [];
    this.feed(chunk, t, {
      line: (bytes, start, end, lt, at, cut) => out.push({ raw: bytes.subarray(start, end), t: lt, at, ...(cut ? { cut } : {}) }),
    });
    return out;
  }

  /** Feeds a chunk; hands each line it completes to `out` (the capture's path: no allocation per line). */
  feed(chunk: Buffer, t: number, out: LineSink): void {
    let start = 0;
    // Next LF and CR, found with the native indexOf (this runs on every byte the board prints).
    let lf = chunk.indexOf(LF, 0);
    let cr = chunk.indexOf(CR, 0);
    while (lf >= 0 || cr >= 0) {
      const isLF = cr < 0 || (lf >= 0 && lf < cr);
      const i = isLF ? lf : cr;
      const content = this.partLength + (i - start);
      if (isLF) {
        // The LF of a CRLF whose CR already ended the line: swallow it.
        if (content === 0 && this.afterCR === "emitted") {
          this.afterCR = "no";
        } else {
          this.endLine(chunk, start, i, t, out);
          this.afterCR = "no";
        }
        lf = chunk.indexOf(LF, i + 1);
      } else {
        if (content > 0) {
          this.endLine(chunk, start, i, t, out);
          this.afterCR = "emitted";
        } else if (this.afterCR !== "emitted") {
          // "\r" on an empty line: wait to see whether "\n" follows (a blank CRLF line) or not ("\r\r\n").
          this.afterCR = "empty";
        }
        cr = chunk.indexOf(CR, i + 1);
      }
      start = i + 1;
    }
    if (start < chunk.length) {
      this.hold(chunk, start, chunk.length, t, out);
      this.afterCR = "no";
    }
    this.consumed += chunk.length;
  }

  /** The unterminated tail (a prompt, or a line still arriving), if any. */
  partial(): RawLine | undefined {
    if (this.partLength === 0) return undefined;
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts, this.partLength)];
    return { raw: this.parts[0]!, t: this.partStart, at: this.partAt };
  }

  /** Ends the unterminated tail as a line (port lost, released or closed). */
  flush(): RawLine | undefined {
    const line = this.partial();
    this.parts = [];
    this.partLength = 0;
    this.afterCR = "no";
    return line;
  }

  /** The line ends at `end`: emit it (cut into pieces if it is over the limit). */
  private endLine(chunk: Buffer, start: number, end: number, t: number, out: LineSink): void {
    const length = end - start;
    if (this.partLength === 0 && length <= this.maxLineBytes) {
      out.line(chunk, start, end, t, this.consumed + start, false); // the common case: straight from the chunk
      return;
    }
    if (this.partLength + length <= this.maxLineBytes) {
      const raw = Buffer.concat([...this.parts, chunk.subarray(start, end)], this.partLength + length);
      const at = this.partAt;
      const lt = this.partStart;
      this.parts = [];
      this.partLength = 0;
      out.line(raw, 0, raw.length, lt, at, false);
      return;
    }
    this.hold(chunk, start, end, t, out);
    const rest = this.flush()!;
    out.line(rest.raw, 0, rest.raw.length, rest.t, rest.at, false);
  }

  /**
   * Keeps bytes of the line still arriving. Holding a full line's worth when more content comes
   * cuts it there: the held bytes go out as a `cut` line, and the rest starts the next one.
   */
  private hold(chunk: Buffer, start: number, end: number, t: number, out: LineSink): void {
    while (start < end) {
      if (this.partLength === this.maxLineBytes) {
        const piece = this.flush()!;
        out.line(piece.raw, 0, piece.raw.length, piece.t, piece.at, true);
      }
      if (this.partLength === 0) {
        this.partStart = t;
        this.partAt = this.consumed + start;
      }
      const n = Math.min(this.maxLineBytes - this.partLength, end - start);
      // Copy: the chunk may be a slice of a pool the port reuses.
      this.parts.push(Buffer.from(chunk.subarray(start, start + n)));
      this.partLength += n;
      start += n;
    }
  }
}
