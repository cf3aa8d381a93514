// Positions in a console's output (ConsolePosition in ../types.ts): where a search starts, and
// where the output a match consumed ends (pexpect's cursor).
import type { ConsoleLine, ConsolePosition, ConsoleSince } from "../types.ts";

export const BOOT: ConsolePosition = { seq: 0, offset: 0 };

/** Right after `line`: the next line, or, for a line still unterminated, after the text it had. */
export function positionAfter(line: ConsoleLine): ConsolePosition {
  return line.partial ? { seq: line.seq, offset: line.text.length } : { seq: line.seq + 1, offset: 0 };
}

export function laterOf(a: ConsolePosition, b: ConsolePosition): ConsolePosition {
  return a.seq > b.seq || (a.seq === b.seq && a.offset >= b.offset) ? a : b;
}

export function toPosition(since: ConsoleSince): ConsolePosition {
  if (since === "boot") return BOOT;
  return typeof since === "number" ? { seq: since, offset: 0 } : since;
}

/** The part of `line` at or after `from`; undefined when the whole line is before it. */
export function textFrom(line: ConsoleLine, from: ConsolePosition): string | undefined {
  if (line.seq < from.seq) return undefined;
  return line.seq === from.seq && from.offset > 0 ? line.text.slice(from.offset) : line.text;
}
