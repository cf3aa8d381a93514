// The project's documentation as the docs tests read it: README.md and every page under docs/,
// split into prose (links, headings) and code (commands), with GitHub's heading anchors.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../cli/helpers.ts";

export interface DocFile {
  /** path from the project root, e.g. docs/rigs.md */
  path: string;
  text: string;
}

/** README.md and every .md under docs/ (sub-folders included), in a stable order. */
export function docFiles(): DocFile[] {
  const paths = ["README.md"];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) paths.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, "docs"));
  return paths.map((path) => ({ path, text: readFileSync(join(ROOT, path), "utf8") }));
}

export interface Line {
  /** 1-based */
  line: number;
  text: string;
  /** inside a fenced code block */
  fenced: boolean;
}

export function lines(text: string): Line[] {
  let fenced = false;
  return text.split("\n").map((raw, i) => {
    if (/^\s*```/.test(raw)) {
      fenced = !fenced;
      return { line: i + 1, text: raw, fenced: true };
    }
    return { line: i + 1, text: raw, fenced };
  });
}

/** The text with every fenced line blanked: what is left is prose (line numbers kept). */
function prose(text: string): string {
  return lines(text)
    .map((l) => (l.fenced ? "" : l.text))
    .join("\n");
}

const lineAt = (text: string, index: number) => text.slice(0, index).split("\n").length;

/** Inline code spans of the prose (they may wrap a line; tables' `\|` unescaped). */
export function codeSpans(text: string): Array<{ line: number; code: string }> {
  const p = prose(text);
  return [...p.matchAll(/`([^`]+)`/g)].map((m) => ({ line: lineAt(p, m.index), code: m[1]!.replace(/\s*\n\s*/g, " ").replace(/\\\|/g, "|") }));
}

/** Relative (and same-page) link targets of the prose, code spans left out. */
export function links(text: string): Array<{ line: number; target: string }> {
  const p = prose(text).replace(/`[^`]*`/g, (code) => code.replace(/[^\n]/g, "c"));
  const out: Array<{ line: number; target: string }> = [];
  for (const m of p.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    out.push({ line: lineAt(p, m.index), target });
  }
  return out;
}

/** The anchors GitHub gives a page's headings (github-slugger's rule, -1, -2… for repeats). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const l of lines(text)) {
    const m = !l.fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l.text);
    if (!m) continue;
    const plain = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1"); // a link's text only
    const base = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
