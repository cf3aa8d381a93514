// Where an unclosed `{`, `[` or quote was opened. The YAML parser notices one only where the
// text stops making sense (often lines later, as an indentation problem); a syntax error then
// also names the opener, which is where the fault usually is.
import { CST, Parser } from "yaml";

export interface Opener {
  offset: number;
  /** `{`, `[`, `"` or `'` */
  char: string;
}

/** Flow collections with no closing bracket and quoted scalars with no closing quote, in text order. */
export function unclosedOpeners(text: string): Opener[] {
  const found: Opener[] = [];
  const check = (node: CST.Token | undefined) => {
    if (!node) return;
    if (node.type === "flow-collection") {
      // a `}` does not close a `[`: the parser may end the sequence there, but it is still unclosed
      const closer = node.start.type === "flow-seq-start" ? "flow-seq-end" : "flow-map-end";
      const closed = node.end.some((t) => t.type === closer);
      if (!closed) found.push({ offset: node.start.offset, char: node.start.source });
    } else if (node.type === "double-quoted-scalar" || node.type === "single-quoted-scalar") {
      if (!closesQuote(node.source)) found.push({ offset: node.offset, char: node.source[0]! });
    }
  };
  for (const token of new Parser().parse(text)) {
    if (token.type !== "document") continue;
    check(token.value);
    CST.visit(token, (item) => {
      check(item.key ?? undefined);
      check(item.value ?? undefined);
    });
  }
  return found.sort((a, b) => a.offset - b.offset);
}

function closesQuote(source: string): boolean {
  const q = source[0]!;
  if (source.length < 2 || !source.endsWith(q)) return false;
  if (q === "'") return true; // '' inside is an escaped quote; a scalar ending in ' is closed
  let backslashes = 0;
  for (let i = source.length - 2; i > 0 && source[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 0;
}
