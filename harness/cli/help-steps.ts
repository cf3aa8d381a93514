// rig help steps / rig help step <name>: every step and its parameters, drawn from the loader's
// own zod schemas (harness/scenario/steps.ts) through their JSON Schema, so the list can never
// drift from what the loader accepts.
import { z } from "zod";
import { BLOCK_STEP_NAMES, STEP_NAMES, stepSchemas, type StepName } from "../scenario/steps.ts";
import { unknownStepHint } from "../scenario/suggest.ts";

type Json = {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: Json[];
  items?: Json;
  properties?: Record<string, Json>;
  required?: string[];
  additionalProperties?: boolean | Json;
  description?: string;
  title?: string;
};

/** Block steps have no zod schema of their own (the loader reads their children). */
const BLOCK_STEPS: Record<(typeof BLOCK_STEP_NAMES)[number], { params: string; what: string }> = {
  repeat: { params: "times: number, steps: [steps…]", what: "runs the steps `times` times (step paths 5.3.2 = block 5, round 3, step 2)" },
  parallel: { params: "{ <branch>: [steps…], … }", what: "runs each branch's steps at the same time (e.g. one branch per board); fails if any branch fails" },
  sweep: {
    params: "board, points: [n…] | { from, to, count }, base, target, allow?, stop_on: bricked?, window?, setup: [steps…]?, steps: [steps…]",
    what: "a power-cut sweep: runs setup then steps once per point (${sweep.point}, ${sweep.index}); a power cut ends a point's steps and the boot after it is classified old, new, bricked or other; fails naming every point whose outcome allow does not list",
  },
};

interface Param {
  name: string;
  optional: boolean;
  type: string;
  description?: string;
}

function schemaOf(name: StepName): Json {
  return z.toJSONSchema(stepSchemas[name], { unrepresentable: "any" }) as Json;
}

/** A JSON Schema as a short type: on|off|cycle, duration, text, [text…], { name: value, … }. */
function typeText(j: Json): string {
  if (j.title) return j.title;
  if (j.enum) return j.enum.map(String).join("|");
  if (j.anyOf) return j.anyOf.map(typeText).join(" or ");
  const types = Array.isArray(j.type) ? j.type : j.type ? [j.type] : [];
  return types
    .map((t) => {
      if (t === "array") return `[${j.items ? typeText(j.items) : ""}…]`;
      if (t === "object") return j.properties && Object.keys(j.properties).length ? `{ ${Object.keys(j.properties).join(", ")} }` : j.additionalProperties ? "{ name: value, … }" : "{}";
      if (t === "string") return "text";
      if (t === "integer") return "number";
      if (t === "boolean") return "true|false";
      if (t === "null") return "nothing";
      return t;
    })
    .join(" or ");
}

/** The parameters of a step whose schema is an object (or a union holding one: server.*, wait). */
function paramsOf(j: Json): Param[] {
  const object = j.properties ? j : j.anyOf?.find((a) => a.properties && Object.keys(a.properties).length > 0);
  if (!object?.properties) return [];
  return Object.entries(object.properties).map(([name, p]) => ({
    name,
    optional: !(object.required ?? []).includes(name),
    type: typeText(p),
    ...(p.description ? { description: p.description } : {}),
  }));
}

/** The parameters in one line: `board`, `within?: duration`, with a type where it says more than "text". */
function paramsLine(j: Json): string {
  if (j.anyOf) {
    // server.*: nothing or {}; wait: a duration or { for: duration }
    const object = j.anyOf.find((a) => a.properties && Object.keys(a.properties).length > 0);
    if (!object) return "{} (or nothing)";
    if (j.anyOf.some((a) => a.type !== "object" && a.type !== "null")) return typeText(j);
  }
  const params = paramsOf(j);
  if (params.length === 0) return j.properties ? "{}" : typeText(j);
  return params.map((p) => `${p.name}${p.optional ? "?" : ""}${p.type === "text" ? "" : `: ${p.type}`}`).join(", ");
}

export function stepsHelp(): string {
  const width = Math.max(...STEP_NAMES.map((n) => n.length), 8) + 2;
  const lines = ["Steps (parameters with ? are optional; rig help step <name> explains one):", ""];
  for (const name of STEP_NAMES) {
    const j = schemaOf(name);
    lines.push(`  ${name.padEnd(width)}${paramsLine(j)}`, `  ${"".padEnd(width)}  ${j.description ?? ""}`);
  }
  for (const [name, b] of Object.entries(BLOCK_STEPS)) lines.push(`  ${name.padEnd(width)}${b.params}`, `  ${"".padEnd(width)}  ${b.what}`);
  lines.push("", "Every step also takes name: (a label) and timeout: (a duration) beside its action key.", "");
  return lines.join("\n");
}

export function stepHelp(name: string): string | undefined {
  if (name in BLOCK_STEPS) {
    const b = BLOCK_STEPS[name as keyof typeof BLOCK_STEPS];
    return `${name}: ${b.what}\n\n  ${name}: ${b.params}\n`;
  }
  if (!(STEP_NAMES as string[]).includes(name)) return undefined;
  const j = schemaOf(name as StepName);
  const params = paramsOf(j);
  const width = Math.max(...params.map((p) => p.name.length + (p.optional ? 1 : 0)), 4) + 2;
  const lines = [`${name}: ${j.description ?? ""}`, ""];
  if (params.length === 0) lines.push(`  ${name}: ${paramsLine(j)}`);
  for (const p of params) {
    lines.push(`  ${`${p.name}${p.optional ? "?" : ""}`.padEnd(width)}${p.type}`);
    if (p.description) lines.push(`  ${"".padEnd(width)}${p.description}`);
  }
  lines.push("");
  return lines.join("\n");
}

/** `rig help steps`, `rig help step <name>`: exit 0, or 2 for an unknown step. */
export function helpStepsCommand(topic: "steps" | "step", args: string[]): number {
  if (topic === "steps" || args[0] === undefined) {
    process.stdout.write(stepsHelp());
    return 0;
  }
  const text = stepHelp(args[0]);
  if (text !== undefined) {
    process.stdout.write(text);
    return 0;
  }
  const all = [...STEP_NAMES, ...BLOCK_STEP_NAMES];
  process.stderr.write(`rig help step: unknown step "${args[0]}"${unknownStepHint(args[0], all)}\n`);
  return 2;
}
