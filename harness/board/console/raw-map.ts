// Maps the lines of a <board>.log to their bytes in the <board>.raw. The .log is what the line
// assembler made of the .raw's bytes, and the assembler's lines do not depend on how the bytes
// were split into reads; the only other input is where the capture ended a line early (the port
// went away, was released or closed), and every such place is a marker line in the .log that
// carries the .raw offset ("--- console lost: … @raw 1234 ---"). So replaying the .raw through
// the assembler, ending the line at each marker's offset, gives each .log line its bytes.
import { LineAssembler, MAX_LINE_BYTES } from "./line-assembler.ts";
import type { LineCut } from "./capture-files.ts";

export type LogLineBytes =
  | { kind: "line"; /** 1-based line in the .log */ line: number; offset: number; length: number; cut?: LineCut }
  | { kind: "marker"; line: number; offset: number; text: string };

const STAMP = /^\[\s*\d+\.\d{3}\] /;
const MARKER = /^--- (.*) @raw (\d+) ---$/;
const LF = 0x0a;

/** Every line of the .log with its place in the .raw. Throws when the two do not belong together. */
export function mapLogToRaw(log: Buffer, raw: Buffer, maxLineBytes = MAX_LINE_BYTES): LogLineBytes[] {
  const assembler = new LineAssembler(maxLineBytes);
  const pending: Array<{ at: number; length: number; cut?: LineCut }> = [];
  let fed = 0;
  /** Feeds the .raw up to `until`, queueing the lines it completes. */
  const feed = (until: number) => {
    if (until <= fed) return;
    for (const l of assembler.push(raw.subarray(fed, until), 0)) pending.push({ at: l.at, length: l.raw.length, ...(l.cut ? { cut: "limit" as const } : {}) });
    fed = until;
  };
  const out: LogLineBytes[] = [];
  const logLines = splitLines(log);
  // Board lines before a marker were completed (or ended early) before its offset.
  const markers = logLines.map((text) => MARKER.exec(text.replace(STAMP, "")));
  let nextMarker = markers.findIndex((m) => m !== null);
  for (let i = 0; i < logLines.length; i++) {
    const marker = markers[i];
    if (marker) {
      const offset = Number(marker[2]);
      feed(offset);
      if (pending.length) throw new Error(`.log line ${i + 1} (a marker at .raw offset ${offset}): the .raw has lines the .log does not`);
      assembler.flush(); // the capture ended its line here too (it wrote it before the marker)
      out.push({ kind: "marker", line: i + 1, offset, text: marker[1]! });
      nextMarker = markers.findIndex((m, j) => j > i && m !== null);
      continue;
    }
    if (pending.length === 0) {
      const limit = nextMarker >= 0 ? Number(markers[nextMarker]![2]) : raw.length;
      feed(limit);
      if (pending.length === 0) {
        // The line was ended early, at the next marker (or at the end of the capture).
        const ended = assembler.flush();
        if (ended) pending.push({ at: ended.at, length: ended.raw.length, cut: "gap" });
      }
    }
    const next = pending.shift();
    if (!next) throw new Error(`.log line ${i + 1}: the .raw ends before it (do the two files come from the same capture?)`);
    out.push({ kind: "line", line: i + 1, offset: next.at, length: next.length, ...(next.cut ? { cut: next.cut } : {}) });
  }
  return out;
}

function splitLines(buf: Buffer): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, start)) {
    lines.push(buf.toString("latin1", start, i));
    start = i + 1;
  }
  if (start < buf.length) lines.push(buf.toString("latin1", start));
  return lines;
}
