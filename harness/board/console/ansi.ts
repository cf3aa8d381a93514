// ANSI escape handling: boards colour their logs (ESP-IDF, Zephyr, shells), but patterns are
// written against plain text. The raw bytes stay in the log; only the text we match is cleaned.

// CSI (colours, cursor moves), OSC (window titles), and two-byte escapes (charset selection, …).
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x1b[()#][0-9A-Za-z]/g;
// Other control characters (bell, backspace, NUL from line noise) are noise for matching; tab stays.
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
// An escape cut off at the end of an unterminated line: drop it until the rest arrives.
const TRAILING_PARTIAL = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()#])?$/;
const ANY_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

export function stripAnsi(text: string): string {
  if (!ANY_CONTROL.test(text)) return text; // the common case: nothing to strip
  return text.replace(ESCAPES, "").replace(TRAILING_PARTIAL, "").replace(CONTROLS, "");
}
