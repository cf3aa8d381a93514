// ANSI escape handling: boards colour their logs (ESP-IDF, Zephyr, shells), but patterns are
// written against plain text. The raw bytes stay in the log; only the text we match is cleaned.

// CSI (colours, cursor moves), OSC (window titles), and two-byte escapes (charset selection, …).
// Then an escape cut off at the end of an unterminated line (dropped until the rest arrives), then
// other control characters (bell, backspace, NUL from line noise): noise for matching. Tab stays.
// One pass: this runs on every line the board prints.
const STRIP = new RegExp(
  [
    /\x1b\[[0-?]*[ -/]*[@-~]/.source,
    /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/.source,
    /\x1b[()#][0-9A-Za-z]/.source,
    /\x1b[@-Z\\-_]/.source,
    /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()#])?$/.source,
    /[\x00-\x08\x0b-\x1f\x7f]/.source,
  ].join("|"),
  "g",
);
const ANY_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

export function stripAnsi(text: string): string {
  if (!ANY_CONTROL.test(text)) return text; // the common case: nothing to strip
  return text.replace(STRIP, "");
}
