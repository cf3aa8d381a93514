// A YAML file parsed with positions: the data as plain JS, plus a way to turn a data path
// (["steps", 3, "expect", "within"]) back into file:line:col for error messages.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";
import type { Document, Node } from "yaml";
import { ScenarioError, ScenarioErrors } from "../core/errors.ts";
import type { SourcePosition } from "../core/errors.ts";
import { unclosedOpeners } from "./yaml-unclosed.ts";

export type Path = readonly (string | number)[];

export interface YamlSource {
  /** the path shown in messages: relative to cwd when the file is below it */
  file: string;
  absPath: string;
  dir: string;
  /** plain JS data; undefined when the file has syntax errors */
  data: unknown;
  /** YAML syntax errors (with the yaml library's line:col) */
  errors: ScenarioError[];
  /** Position of the value at `path` ("key": of its key). A path that does not exist
   *  (a missing key) gives the position of its nearest existing parent's key. */
  pos(path: Path, part?: "key" | "value"): SourcePosition;
}

/** Who named a file, for "not found" messages: e.g. { what: "rig file", pos: <scenario's rig: value> }. */
export interface FileRef {
  what: string;
  pos: SourcePosition;
  /** the path as the referencing file wrote it */
  written?: string;
}

export function displayPath(absPath: string): string {
  const rel = path.relative(process.cwd(), absPath);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : absPath;
}

/** Reads and parses a file. A missing or unreadable file is a ScenarioError at the reference. */
export async function readYamlSource(file: string, ref?: FileRef): Promise<YamlSource> {
  const absPath = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absPath, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = ref?.what ?? "file";
    const asWritten = ref?.written ?? file;
    const shown = asWritten === absPath ? absPath : `${asWritten} (${absPath})`;
    const reason = code === "ENOENT" ? "not found" : `cannot be read: ${(err as Error).message}`;
    throw new ScenarioError(`${what} ${reason}: ${shown}`, ref?.pos);
  }
  return parseYamlSource(text, absPath);
}

export function parseYamlSource(text: string, absPath: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const file = displayPath(absPath);
  const at = (offset: number): SourcePosition => ({ file, ...lineCounter.linePos(offset) });
  const errors = doc.errors.map((e) => new ScenarioError(e.message + openedAt(text, e.message, e.pos[0], at), at(e.pos[0])));
  let data: unknown;
  if (errors.length === 0) data = doc.toJS({ maxAliasCount: 1000 }) ?? undefined;
  return {
    file,
    absPath,
    dir: path.dirname(absPath),
    data,
    errors,
    pos: (p, part = "value") => at(offsetOf(doc, p, part)),
  };
}

/**
 * ` (the "{" opened at 29:12 is not closed)`: the last unclosed opener before a syntax error (of
 * the kind the message asks to close, when it names one), else "".
 */
function openedAt(text: string, message: string, errorOffset: number, at: (offset: number) => SourcePosition): string {
  const before = unclosedOpeners(text).filter((o) => o.offset < errorOffset);
  const closer = /end with a ([}\]])/.exec(message)?.[1];
  const wanted = closer === "}" ? "{" : closer === "]" ? "[" : undefined;
  const opener = before.filter((o) => o.char === wanted).at(-1) ?? before.at(-1);
  if (!opener) return "";
  const p = at(opener.offset);
  const what = opener.char === "{" || opener.char === "[" ? `the "${opener.char}"` : `the ${opener.char} quote`;
  return ` (${what} opened at ${p.line}:${p.col} is not closed)`;
}

function offsetOf(doc: Document, p: Path, part: "key" | "value"): number {
  let node: Node | null | undefined = doc.contents as Node | null;
  let keyNode: Node | undefined;
  for (const seg of p) {
    node = resolveAlias(doc, node);
    let next: { key?: Node; value: Node | null | undefined } | undefined;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && keyText(it.key) === String(seg));
      if (pair) next = { key: pair.key as Node, value: pair.value as Node | null };
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item !== undefined) next = { value: item as Node | null };
    }
    // Missing: point at the parent (its key if it has one), where the missing thing belongs.
    if (!next) return startOf(keyNode ?? node) ?? 0;
    keyNode = next.key;
    // `key:` with no value has no value node: fall back to the key.
    if (!next.value) return startOf(next.key) ?? startOf(node) ?? 0;
    node = next.value;
  }
  if (part === "key" && keyNode) return startOf(keyNode) ?? 0;
  return startOf(node) ?? startOf(keyNode) ?? 0;
}

function resolveAlias(doc: Document, node: Node | null | undefined): Node | null | undefined {
  return isAlias(node) ? (node.resolve(doc) as Node | undefined) : node;
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function startOf(node: Node | null | undefined): number | undefined {
  return node?.range?.[0];
}

/** The plain-object type guard every loader needs. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Nothing, one error, or all of them. */
export function throwIfErrors(errors: ScenarioError[]): void {
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new ScenarioErrors(errors);
}

/** Errors of any loader step as a list (a ScenarioErrors is unpacked). */
export function errorsOf(err: unknown): ScenarioError[] {
  if (err instanceof ScenarioErrors) return err.errors;
  if (err instanceof ScenarioError) return [err];
  throw err;
}
