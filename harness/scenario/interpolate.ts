// ${…} in scenario strings. Forms:
//   ${name}                 a var, else a value an earlier step produced (expect capture, `set`)
//   ${vars.name}            a var only
//   ${fw.id}, ${fw.hash}    dotted step outputs (backend.create as: fw, backend.upload)
//   ${boards.dut.serial}    a board field (serial, name, port, profile, and the rig's extra keys)
//   ${board.server_url}     a field of the board the step acts on (each board in turn for board: all)
//   ${server.url}           the running server
//   ${env.NAME}  ${env.NAME:-default}
//   $${                     a literal "${"
// Values are strings; a var's value may itself contain ${…} (resolved on use, cycles are errors).
import { ScenarioError } from "../core/errors.ts";
import type { SourcePosition } from "../core/errors.ts";
import type { BoardSpec } from "./types.ts";
import { didYouMean } from "./suggest.ts";

export interface Scope {
  vars: Record<string, string>;
  /** values produced by earlier steps, by (possibly dotted) name: "sha", "fw.id" */
  outputs: Record<string, string>;
  /** board name -> fields (see boardFields) */
  boards: Record<string, Record<string, string>>;
  /** fields of the running server: url */
  server: Record<string, string>;
  /** fields of the board the step acts on (`board:` of the step; each one in turn for `board: all`) */
  board?: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

/** Fields of the server a scenario may read as ${server.<field>}; the runner fills them in. */
export const SERVER_FIELDS = ["url", "vendor"] as const;

/** First segments that are not names of vars or step outputs. */
export const RESERVED_NAMES = ["vars", "boards", "board", "server", "env"] as const;

export type Reference = { kind: "env"; name: string; fallback?: string; text: string } | { kind: "path"; path: string[]; text: string };

export type TemplatePart = string | Reference;

const NAME = /^[A-Za-z_][\w-]*$/;
const ENV = /^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** The fields of a board a scenario can read; `port` is the live port (a virtual board's PTY). */
export function boardFields(board: BoardSpec, port = board.console.port): Record<string, string> {
  const fields: Record<string, string> = { ...board.extra, serial: board.serialNumber, name: board.name, profile: board.profile };
  if (port !== undefined) fields.port = port;
  return fields;
}

/** Splits a string into literal text and references. Throws on malformed ${…}. */
export function parseTemplate(text: string, pos?: SourcePosition): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      literal += "${";
      i += 3;
    } else if (text.startsWith("${", i)) {
      const end = text.indexOf("}", i + 2);
      if (end < 0) throw new ScenarioError(`unterminated \${ in "${text}"`, pos);
      const expr = text.slice(i + 2, end);
      if (literal) parts.push(literal);
      literal = "";
      parts.push(parseReference(expr, pos));
      i = end + 1;
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

function parseReference(expr: string, pos?: SourcePosition): Reference {
  const text = `\${${expr}}`;
  const env = ENV.exec(expr.trim());
  if (env) return env[2] === undefined ? { kind: "env", name: env[1]!, text } : { kind: "env", name: env[1]!, fallback: env[2], text };
  const path = expr.trim().split(".");
  if (path.every((s) => NAME.test(s) || /^\d+$/.test(s)) && NAME.test(path[0]!)) return { kind: "path", path, text };
  const hint = expr.trim() === "" ? "an empty ${}" : `"${text}" is not a variable reference`;
  throw new ScenarioError(`${hint} (expected \${name}, \${vars.x}, \${boards.<board>.<field>}, \${env.NAME} …; write $\${ for a literal \${)`, pos);
}

/** All references in a string (for the load-time check). */
export function references(text: string, pos?: SourcePosition): Reference[] {
  return parseTemplate(text, pos).filter((p): p is Reference => typeof p !== "string");
}

/** Replaces ${…} in every string inside `value` (objects and arrays deeply); other values unchanged. */
export function interpolate(value: unknown, scope: Scope, pos?: SourcePosition): unknown {
  if (typeof value === "string") return interpolateString(value, scope, pos);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, scope, pos));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, scope, pos)]));
  }
  return value;
}

export function interpolateString(text: string, scope: Scope, pos?: SourcePosition): string {
  return render(text, scope, pos, []);
}

function render(text: string, scope: Scope, pos: SourcePosition | undefined, stack: string[]): string {
  if (!text.includes("${")) return text;
  return parseTemplate(text, pos)
    .map((part) => (typeof part === "string" ? part : resolve(part, scope, pos, stack)))
    .join("");
}

function resolve(ref: Reference, scope: Scope, pos: SourcePosition | undefined, stack: string[]): string {
  if (ref.kind === "env") {
    const v = scope.env[ref.name];
    // Like the shell's ${NAME:-default}: the default also replaces an empty value.
    if (ref.fallback !== undefined) return v ? v : ref.fallback;
    if (v !== undefined) return v;
    throw new ScenarioError(`environment variable ${ref.name} is not set (write \${env.${ref.name}:-default} to give a default)`, pos);
  }
  const [head, ...rest] = ref.path;
  const name = ref.path.join(".");
  let found: string | undefined;
  if (head === "vars" && rest.length === 1) found = varValue(rest[0]!, scope, pos, stack);
  else if (head === "boards" && rest.length === 2) found = field(field(scope.boards, rest[0]!), rest[1]!);
  else if (head === "server" && rest.length === 1) found = field(scope.server, rest[0]!);
  else if (head === "board" && rest.length === 1) found = field(scope.board, rest[0]!);
  else if (!(RESERVED_NAMES as readonly string[]).includes(head!)) {
    found = rest.length === 0 && own(scope.vars, name) ? varValue(name, scope, pos, stack) : field(scope.outputs, name);
  }
  if (found === undefined) throw new ScenarioError(`unknown variable ${ref.text}${didYouMean(name, knownNames(scope))}`, pos);
  return found;
}

function varValue(name: string, scope: Scope, pos: SourcePosition | undefined, stack: string[]): string | undefined {
  if (!own(scope.vars, name)) return undefined;
  if (stack.includes(name)) throw new ScenarioError(`variable cycle: ${[...stack, name].join(" -> ")}`, pos);
  return render(scope.vars[name]!, scope, pos, [...stack, name]);
}

/** Every name a reference could use in this scope (for "did you mean"). */
export function knownNames(scope: Pick<Scope, "vars" | "outputs" | "boards" | "server" | "board">): string[] {
  return [
    ...Object.keys(scope.vars),
    ...Object.keys(scope.vars).map((v) => `vars.${v}`),
    ...Object.keys(scope.outputs),
    ...Object.entries(scope.boards).flatMap(([b, fields]) => Object.keys(fields).map((f) => `boards.${b}.${f}`)),
    ...Object.keys(scope.server).map((f) => `server.${f}`),
    ...Object.keys(scope.board ?? {}).map((f) => `board.${f}`),
  ];
}

function own(obj: object, key: string): boolean {
  return Object.hasOwn(obj, key);
}

// Own properties only: "${constructor}" must not find Object.prototype.constructor.
function field<T>(obj: Record<string, T> | undefined, key: string): T | undefined {
  return obj !== undefined && own(obj, key) ? obj[key] : undefined;
}
