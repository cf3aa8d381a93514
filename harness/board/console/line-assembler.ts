// Turns a byte stream into lines. Boards end lines with "\r\n", "\n" or a lone "\r" (progress
// bars), and a read can end anywhere, including between "\r" and "\n". Splitting works on bytes:
// CR and LF never occur inside a UTF-8 sequence, so a line's bytes always decode cleanly.

export interface RawLine {
  /** the line's bytes, without its terminator (ANSI escapes kept) */
  raw: Buffer;
  /** time the line's first byte arrived */
  t: number;
}

const LF = 0x0a;
const CR = 0x0d;

export class LineAssembler {
  private parts: Buffer[] = [];
  private partLength = 0;
  private partStart = 0;
  /** after a CR: "emitted" if it ended a line (a following LF is part of that terminator), "empty" if it ended nothing */
  private afterCR: "no" | "emitted" | "empty" = "no";

  /** @param maxLineBytes an unterminated line longer than this is cut, so line noise cannot grow memory without bound */
  constructor(private readonly maxLineBytes = 64 * 1024) {}

  /**
   * Feeds a chunk; returns the lines it completed. A returned line's bytes may be a view into
   * `chunk`: use or copy them before the caller reuses that buffer.
   */
  push(chunk: Buffer, t: number): RawLine[] {
    const out: RawLine[] = [];
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
          out.push(this.take(chunk, start, i, t));
          this.afterCR = "no";
        }
        lf = chunk.indexOf(LF, i + 1);
      } else {
        if (content > 0) {
          out.push(this.take(chunk, start, i, t));
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
      if (this.partLength === 0) this.partStart = t;
      // Copy: the chunk may be a slice of a pool the port reuses.
      const rest = Buffer.from(chunk.subarray(start));
      this.parts.push(rest);
      this.partLength += rest.length;
      this.afterCR = "no";
      if (this.partLength >= this.maxLineBytes) {
        const line = this.flush();
        if (line) out.push(line);
      }
    }
    return out;
  }

  /** The unterminated tail (a prompt, or a line still arriving), if any. */
  partial(): RawLine | undefined {
    if (this.partLength === 0) return undefined;
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts, this.partLength)];
    return { raw: this.parts[0]!, t: this.partStart };
  }

  /** Ends the unterminated tail as a line (port lost, released or closed). */
  flush(): RawLine | undefined {
    const line = this.partial();
    this.parts = [];
    this.partLength = 0;
    this.afterCR = "no";
    return line;
  }

  private take(chunk: Buffer, start: number, end: number, t: number): RawLine {
    const piece = chunk.subarray(start, end);
    if (this.partLength === 0) return { raw: piece, t };
    const raw = Buffer.concat([...this.parts, piece], this.partLength + piece.length);
    const line = { raw, t: this.partStart };
    this.parts = [];
    this.partLength = 0;
    return line;
  }
}
