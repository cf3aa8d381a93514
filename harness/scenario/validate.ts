// zod validation with positions: every zod issue becomes a ScenarioError at the offending key
// or value, with a message saying what was expected (and "did you mean" for unknown keys/values).
import { z } from "zod";
import type { SourcePosition } from "../core/errors.ts";
import { ScenarioError } from "../core/errors.ts";
import { parseDuration } from "../core/duration.ts";
import { duration, isDuration } from "./steps.ts";
import { didYouMean } from "./suggest.ts";
import { isRecord } from "./yaml-source.ts";
import type { Path, YamlSource } from "./yaml-source.ts";

type Issue = z.core.$ZodIssue;

export interface CheckOptions {
  /** what the value at `base` is, for messages about it as a whole: "step expect", "board dut" */
  what?: string;
  /** Step params: a `${…}` string stands for a value known only at run time, so type, enum and
   *  format errors on it are left to the run-time check. */
  deferInterpolated?: boolean;
}

export interface Checked<T> {
  value?: T;
  errors: ScenarioError[];
}

/** Validates `data` (found at `base` in `src`) against `schema`. */
export function check<S extends z.ZodType>(schema: S, data: unknown, src: Locatable, base: Path, opts: CheckOptions = {}): Checked<z.output<S>> {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data, errors: [] };
  const ctx: Ctx = { schema, data, src, base, opts };
  const errors = result.error.issues.flatMap((issue) => issueErrors(ctx, issue, []));
  // Every issue was deferred to run time: the value stands as written.
  return errors.length === 0 ? { value: data as z.output<S>, errors } : { errors };
}

/** A duration in a rig/scenario/profile field, parsed at load time into milliseconds. */
export const durationMs = duration.transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    const message =
      typeof v === "string" && v.includes("${") ? `must be a literal duration here (no \${…}), got "${v}"` : (err as Error).message;
    ctx.issues.push({ code: "custom", message, input: v });
    return z.NEVER;
  }
});

/** Literal durations inside step params (schema fields that are `duration`) must parse now;
 *  `${…}` ones are parsed when the step runs. */
export function literalDurationErrors(schema: z.ZodType, data: unknown, src: Locatable, base: Path): ScenarioError[] {
  const errors: ScenarioError[] = [];
  const walk = (s: z.ZodType, v: unknown, p: Path): void => {
    if (isDuration(s)) {
      if (typeof v === "string" && !v.includes("${")) {
        try {
          parseDuration(v);
        } catch (err) {
          errors.push(new ScenarioError(`${label(p, "value")}: ${(err as Error).message}`, src.pos([...base, ...p])));
        }
      }
      return;
    }
    const u = unwrap(s);
    if (u !== s) return walk(u, v, p);
    if (u instanceof z.ZodObject && isRecord(v)) {
      for (const [k, sub] of Object.entries(u.shape)) if (k in v) walk(sub as z.ZodType, v[k], [...p, k]);
    } else if (u instanceof z.ZodUnion) {
      const option = (u.options as z.ZodType[]).find((o) => o.safeParse(v).success);
      if (option) walk(option, v, p);
    } else if (u instanceof z.ZodArray && Array.isArray(v)) {
      v.forEach((item, i) => walk(u.element as z.ZodType, item, [...p, i]));
    } else if (u instanceof z.ZodRecord && isRecord(v)) {
      for (const [k, item] of Object.entries(v)) walk(u.valueType as z.ZodType, item, [...p, k]);
    }
  };
  walk(schema, data, []);
  return errors;
}

/** Where a data path is: a YamlSource, or for run-time checks just the step's position. */
export type Locatable = Pick<YamlSource, "pos">;

interface Ctx {
  schema: z.ZodType;
  data: unknown;
  src: Locatable;
  base: Path;
  opts: CheckOptions;
}

function issueErrors(ctx: Ctx, issue: Issue, prefix: Path): ScenarioError[] {
  const p: Path = [...prefix, ...(issue.path as (string | number)[])];
  const value = valueAt(ctx.data, p);
  const at = (part: "key" | "value" = "value", sub: Path = p): SourcePosition => ctx.src.pos([...ctx.base, ...sub], part);
  const err = (message: string, pos = at()) => [new ScenarioError(message, pos)];
  const name = label(p, ctx.opts.what);

  if (ctx.opts.deferInterpolated && typeof value === "string" && value.includes("${") && issue.code !== "unrecognized_keys") return [];

  if (value === undefined && (issue.code === "invalid_type" || issue.code === "invalid_union")) {
    if (p.length === 0) return err(`${name}: expected a mapping, got nothing (the file is empty)`);
    const key = p[p.length - 1];
    const parent = p.slice(0, -1);
    const where = parent.length > 0 || ctx.opts.what ? ` in ${label(parent, ctx.opts.what)}` : "";
    return err(`missing required key "${String(key)}"${where}`, at("key", parent));
  }

  if (isDuration(schemaAt(ctx.schema, p)) && issue.code !== "custom") {
    return err(`${name}: expected a duration like 500ms, 20s or 2m (or a number of seconds), got ${describe(value)}`);
  }

  switch (issue.code) {
    case "invalid_type":
      return err(`${name}: expected ${typeWord(issue.expected)}, got ${describe(value)}`);
    case "unrecognized_keys": {
      const allowed = allowedKeys(schemaAt(ctx.schema, p));
      return issue.keys.flatMap((key) => {
        const hint = didYouMean(key, allowed);
        const list = hint || allowed.length === 0 ? "" : ` (allowed: ${allowed.join(", ")})`;
        const where = p.length > 0 || ctx.opts.what ? ` in ${label(p, ctx.opts.what)}` : "";
        return err(`unknown key "${key}"${where}${hint}${list}`, at("key", [...p, key]));
      });
    }
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v));
      const hint = typeof value === "string" ? didYouMean(value, issue.values.map(String)) : "";
      return err(`${name}: expected ${values.length === 1 ? values[0] : `one of ${values.join(", ")}`}, got ${describe(value)}${hint}`);
    }
    case "invalid_union":
      return unionErrors(ctx, issue, p, value, name);
    case "too_small":
      return err(`${name}: ${bound(issue.origin, "at least", issue.minimum, issue.inclusive)}, got ${describe(value)}`);
    case "too_big":
      return err(`${name}: ${bound(issue.origin, "at most", issue.maximum, issue.inclusive)}, got ${describe(value)}`);
    case "invalid_format":
      return err(`${name}: expected ${issue.message.startsWith("Invalid") ? `a ${issue.format}` : issue.message}, got ${describe(value)}`);
    default:
      return err(`${name}: ${issue.message}`);
  }
}

// A union failed: if the value's type fits some branches, report the closest one's issues;
// otherwise say which types would have fitted.
function unionErrors(ctx: Ctx, issue: z.core.$ZodIssueInvalidUnion, p: Path, value: unknown, name: string): ScenarioError[] {
  const fitting = issue.errors.filter((branch) => rootTypes(branch) === undefined);
  if (fitting.length > 0) {
    const closest = fitting.reduce((a, b) => (b.length < a.length ? b : a));
    return closest.flatMap((i) => issueErrors(ctx, i, p));
  }
  const types = [...new Set(issue.errors.flatMap((b) => rootTypes(b) ?? []))].map(typeWord);
  const expected = types.length > 1 ? `${types.slice(0, -1).join(", ")} or ${types[types.length - 1]}` : types[0];
  return [new ScenarioError(`${name}: expected ${expected}, got ${describe(value)}`, ctx.src.pos([...ctx.base, ...p]))];
}

/** The types a branch wanted, if it failed only because the value's type was wrong. */
function rootTypes(branch: Issue[]): string[] | undefined {
  const types: string[] = [];
  for (const i of branch) {
    if (i.path.length > 0) return undefined;
    if (i.code === "invalid_type") types.push(i.expected);
    else if (i.code === "invalid_union") {
      for (const b of i.errors) {
        const t = rootTypes(b);
        if (t === undefined) return undefined;
        types.push(...t);
      }
    } else return undefined;
  }
  return types.length > 0 ? types : undefined;
}

function bound(origin: string, word: string, n: number | bigint, inclusive?: boolean): string {
  if (origin === "array") return `expected ${word} ${n} item${n === 1 ? "" : "s"}`;
  if (origin === "string") return n === 1 && word === "at least" ? "must not be empty" : `expected ${word} ${n} characters`;
  const op = word === "at least" ? (inclusive === false ? ">" : ">=") : inclusive === false ? "<" : "<=";
  return `expected a number ${op} ${n}`;
}

function typeWord(t: string): string {
  return ({ object: "a mapping", array: "a list", record: "a mapping", int: "an integer" } as Record<string, string>)[t] ?? `a ${t}`;
}

/** How a value reads in a message: `"fast"`, `5`, `a mapping`, `nothing`. */
export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value";
  if (Array.isArray(v)) return "a list";
  if (isRecord(v)) return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return String(v);
}

/** `console.baud`, `command[2]`; the whole value is `what` (or "value"). */
export function label(p: Path, what = "value"): string {
  if (p.length === 0) return what;
  return p.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

function valueAt(data: unknown, p: Path): unknown {
  let v = data;
  for (const seg of p) {
    if (Array.isArray(v) && typeof seg === "number") v = v[seg];
    else if (isRecord(v)) v = v[String(seg)];
    else return undefined;
  }
  return v;
}

function unwrap(s: z.ZodType): z.ZodType {
  let u = s;
  for (;;) {
    if (u instanceof z.ZodOptional || u instanceof z.ZodNullable || u instanceof z.ZodDefault || u instanceof z.ZodPrefault) {
      u = u.unwrap() as z.ZodType;
    } else if (u instanceof z.ZodPipe && !isDuration(u.in)) {
      u = u.in as z.ZodType;
    } else if (u instanceof z.ZodPipe) {
      return u.in as z.ZodType;
    } else return u;
  }
}

/** The sub-schema that validates the value at `p` (first union branch that has the key). */
function schemaAt(schema: z.ZodType, p: Path): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of p) {
    if (!s) return undefined;
    const u = unwrap(s);
    if (u instanceof z.ZodObject) s = (u.shape as Record<string, z.ZodType>)[String(seg)];
    else if (u instanceof z.ZodArray) s = u.element as z.ZodType;
    else if (u instanceof z.ZodRecord) s = u.valueType as z.ZodType;
    else if (u instanceof z.ZodUnion) s = (u.options as z.ZodType[]).map((o) => schemaAt(o, [seg])).find((x) => x !== undefined);
    else return undefined;
  }
  return s && (isDuration(s) ? s : unwrap(s));
}

function allowedKeys(s: z.ZodType | undefined): string[] {
  if (!s) return [];
  const u = unwrap(s);
  if (u instanceof z.ZodObject) return Object.keys(u.shape);
  if (u instanceof z.ZodUnion) return [...new Set((u.options as z.ZodType[]).flatMap(allowedKeys))];
  return [];
}
