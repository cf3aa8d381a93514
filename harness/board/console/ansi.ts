// ANSI escape handling: boards colour their logs (ESP-IDF, Zephyr, shells), but patterns are
// written against plain text. The raw bytes stay in the log; only the text we match is cleaned.

import { StringDecoder } from "node:string_decoder";

// CSI (colours, cursor moves), OSC (window titles) and the other strings (DCS, SOS, PM, APC: their
// payload is not text either), and two-byte escapes (charset selection, …).
// Then an escape cut off at the end of an unterminated line (dropped until the rest arrives), then
// other control characters (bell, backspace, NUL from line noise): noise for matching. Tab stays.
// One pass: this runs on every line the board prints.
const STRIP = new RegExp(
  [
    /\x1b\[[0-?]*[ -/]*[@-~]/.source,
    /\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)/.source,
    /\x1b[()#][0-9A-Za-z]/.source,
    /\x1b[@-Z\\-_]/.source,
    /\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b]*|[()#])?$/.source,
    /[\x00-\x08\x0b-\x1f\x7f]/.source,
  ].join("|"),
  "g",
);
const ANY_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

export function stripAnsi(text: string): string {
  if (!ANY_CONTROL.test(text)) return text; // the common case: nothing to strip
  return text.replace(STRIP, "");
}

// ---- device text on the user's terminal ----
// A board's output reaches the user's terminal (`--console`, the reporter's messages, `rig
// console`). Colours are welcome; anything else a terminal obeys is not the board's to send: an
// OSC 52 clipboard write, a window title, clear screen, cursor moves, DCS strings, 8-bit C1
// controls. Only SGR (ESC [ … m) passes.

/** One escape sequence or control character (7-bit and 8-bit introducers). */
const SEQUENCE = new RegExp(
  [
    /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]/.source, // CSI
    /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)/.source, // OSC, DCS, SOS, PM, APC strings
    /\x1b[ -/]+[0-~]/.source, // nF: charset selection and the like
    /\x1b[0-~]/.source, // two-byte escapes
    /[\x00-\x1f\x7f-\x9f]/.source, // lone control characters
  ].join("|"),
  "g",
);
/** A sequence whose end has not arrived yet, at the end of the text. */
const UNFINISHED = /(?:\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b\x9c]*\x1b?|[ -/]*)?|\x9b[0-?]*[ -/]*|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*\x1b?)$/;
const SGR = /^\x1b\[[0-9;:]*m$/;
const ANY_SEQUENCE = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

export interface TerminalSafeOptions {
  /** keep SGR colour sequences (else they go too) */
  colors: boolean;
  /** control characters that pass besides tab, e.g. "\r\n" for a byte stream */
  keep?: string;
  /** a stream's piece: a colour left on stays on (for a whole text it is turned off at the end) */
  stream?: boolean;
}

/** Device text made safe to print: SGR kept (with `colors`), every other sequence and control character removed. */
export function terminalSafe(text: string, options: TerminalSafeOptions): string {
  if (!ANY_SEQUENCE.test(text)) return text; // the common case
  const keep = `\t${options.keep ?? ""}`;
  let colourOn = false;
  const out = text.replace(UNFINISHED, "").replace(SEQUENCE, (seq) => {
    if (seq.length === 1 && keep.includes(seq)) return seq;
    if (!options.colors || !SGR.test(seq)) return "";
    colourOn = seq !== "\x1b[0m" && seq !== "\x1b[m";
    return seq;
  });
  // A colour left on would paint what the terminal prints next.
  return colourOn && !options.stream ? `${out}\x1b[0m` : out;
}

/** The longest unfinished sequence held back for the next chunk; a longer one is dropped as noise. */
const MAX_HELD = 4096;

/**
 * `terminalSafe` for a byte stream (`rig console`): a sequence split between two reads is held
 * until its end arrives, so it is recognised whole. CR and LF pass (the lines), and what `keep`
 * adds (backspace, for a shell's line editing on an interactive terminal).
 */
export class TerminalFilter {
  private held = "";
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    private readonly colors: boolean,
    private readonly keep = "",
  ) {}

  push(chunk: Buffer): string {
    let text = this.held + this.decoder.write(chunk);
    const unfinished = UNFINISHED.exec(text);
    this.held = unfinished && unfinished[0].length <= MAX_HELD ? unfinished[0] : "";
    if (this.held) text = text.slice(0, unfinished!.index);
    return terminalSafe(text, { colors: this.colors, keep: `\r\n${this.keep}`, stream: true });
  }
}
