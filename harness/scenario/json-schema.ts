// JSON Schemas of scenario, rig and profile files, for editors (`rig schema`, schemas/). They
// are generated from the loader's own zod schemas (with their descriptions), plus what the
// loader checks in code and says for JSON Schema next to that code (`.meta()`): one source of
// truth. What JSON Schema cannot say (board and relay references, variables, valid regexes)
// stays with `rig validate`. The output is deterministic: the committed schemas/ are compared
// with it.
import { z } from "zod";
import { BLOCK_STEP_NAMES, isDuration, STEP_COMMON_KEYS, STEP_NAMES, stepSchemas, sweepSchema } from "./steps.ts";
import { parallelSchema, repeatSchema, scenarioSchema, stepCommonSchema } from "./load-scenario.ts";
import { boardSchema, powerSchemas, relaySchemas, resetSchemas, rigSchema } from "./load-rig.ts";
import { networkSchema } from "./load-network.ts";
import { profileSchema } from "./load-profile.ts";
import type { FileKind } from "./validate-files.ts";

type Json = Record<string, unknown>;

/** The file each schema is written to (in schemas/, or `rig schema --out DIR`). */
export const SCHEMA_FILES: Record<FileKind, string> = {
  scenario: "scenario.schema.json",
  rig: "rig.schema.json",
  profile: "profile.schema.json",
};

/** A literal duration as parseDuration reads it: 500ms, 20s, 2m, 1h, or seconds. */
const DURATION_TEXT = "^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$";
/** A `${…}` string: in step parameters it stands for any value, checked when the step runs. */
const INTERPOLATED = { type: "string", pattern: "\\$\\{" };

/** One zod schema as draft-07 JSON Schema: input shape (defaults optional), durations as they are written. */
function toJson(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, {
    target: "draft-7",
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      if (!isDuration(ctx.zodSchema)) return;
      const description = ctx.jsonSchema.description;
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[key];
      Object.assign(ctx.jsonSchema, {
        ...(description !== undefined ? { description } : {}),
        anyOf: [
          { type: "string", pattern: DURATION_TEXT },
          { type: "number", minimum: 0 },
        ],
      });
    },
  }) as Json;
  delete json.$schema;
  return tidy(json) as Json;
}

/** Drops zod's ±2^53 bounds of every integer: noise for an editor. */
function tidy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidy);
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === "minimum" || k === "maximum") && Math.abs(v as number) === Number.MAX_SAFE_INTEGER) continue;
    out[k] = tidy(v);
  }
  return out;
}

/**
 * Step parameters as the loader takes them: any value below the step key may be a `${…}`
 * string instead (the loader defers its check to run time); plain strings take one anyway.
 */
function interpolable(json: unknown): unknown {
  const node = within(json);
  if (typeof node !== "object" || node === null || Array.isArray(node)) return node;
  const n = node as Json;
  const plainString = n.type === "string" && Object.keys(n).every((k) => k === "type" || k === "description" || k === "minLength");
  if (plainString) return n;
  const { description, ...rest } = n;
  return { ...(description !== undefined ? { description } : {}), anyOf: [rest, INTERPOLATED] };
}

/** The values inside a schema node made interpolable; the alternatives of a union stay one value. */
function within(json: unknown): unknown {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return json;
  const out: Json = {};
  for (const [k, v] of Object.entries(json as Json)) {
    if (k === "properties") out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, interpolable(s)]));
    else if ((k === "items" || k === "additionalProperties") && typeof v === "object") out[k] = interpolable(v);
    else if (k === "anyOf" || k === "oneOf") out[k] = (v as unknown[]).map(within);
    else out[k] = v;
  }
  return out;
}

/** A list of steps, each a `#/definitions/step`. */
function stepList(description: string | undefined, json: Json): Json {
  return { ...(description !== undefined ? { description } : {}), ...json, items: { $ref: "#/definitions/step" } };
}

/** One step: exactly one action key (a step or block name) beside the optional name and timeout. */
function stepJson(): Json {
  const properties: Json = {};
  const common = toJson(stepCommonSchema) as { properties: Json };
  for (const key of STEP_COMMON_KEYS) properties[key] = common.properties[key];
  for (const name of [...STEP_NAMES].sort()) properties[name] = interpolable(toJson(stepSchemas[name] as z.ZodType));
  const repeat = toJson(repeatSchema) as { properties: Json };
  properties.repeat = { ...repeat, properties: { ...repeat.properties, steps: stepList(repeatSchema.shape.steps.description, repeat.properties.steps as Json) } };
  const parallel = toJson(parallelSchema);
  properties.parallel = { ...parallel, additionalProperties: stepList(undefined, parallel.additionalProperties as Json) };
  const sweepRaw = toJson(sweepSchema) as { properties: Json };
  const sweep = within(sweepRaw) as { properties: Json };
  properties.sweep = {
    ...sweep,
    properties: {
      ...sweep.properties,
      setup: stepList(sweepSchema.shape.setup.description, sweepRaw.properties.setup as Json),
      steps: stepList(sweepSchema.shape.steps.description, sweepRaw.properties.steps as Json),
    },
  };
  // A block step this generator does not know yet (added beside repeat and parallel): any
  // value, until its schema is wired in here like theirs.
  for (const name of BLOCK_STEP_NAMES) properties[name] ??= { description: `the ${name} block (see docs/scenarios.md)` };
  const actions = [...STEP_NAMES, ...BLOCK_STEP_NAMES].sort();
  return {
    description: "a step: one action (a step name, repeat, parallel or sweep), with an optional name and timeout",
    type: "object",
    properties,
    additionalProperties: false,
    oneOf: actions.map((a) => ({ required: [a] })),
  };
}

function scenarioJson(): Json {
  const json = toJson(scenarioSchema) as { properties: Json };
  json.properties.steps = stepList(scenarioSchema.shape.steps.description, json.properties.steps as Json);
  return { ...json, definitions: { step: stepJson() } };
}

/** The rig as the loader reads it piece by piece: boards, their power and reset forms, relays by type, the network. */
function rigJson(): Json {
  const describedAs = <T extends z.ZodType>(schema: T, like: z.ZodType) => (like.description === undefined ? schema : schema.describe(like.description));
  const board = boardSchema
    .extend({
      power: describedAs(z.union(Object.values(powerSchemas)), boardSchema.shape.power).optional(),
      reset: describedAs(z.union(Object.values(resetSchemas)), boardSchema.shape.reset).optional(),
    })
    .meta(boardSchema.meta() ?? {}); // extend() drops the board's rules and description
  const rig = rigSchema.extend({
    network: describedAs(networkSchema, rigSchema.shape.network).optional(),
    boards: describedAs(z.record(z.string(), board).meta({ minProperties: 1 }), rigSchema.shape.boards),
    relays: describedAs(z.record(z.string(), z.union(Object.values(relaySchemas))), rigSchema.shape.relays).optional(),
  });
  return toJson(rig);
}

/** The three schemas, each with its $schema and title. */
export function fileJsonSchemas(): Record<FileKind, Json> {
  const head = (title: string) => ({ $schema: "http://json-schema.org/draft-07/schema#", title });
  return {
    scenario: { ...head("otarig scenario"), ...scenarioJson() },
    rig: { ...head("otarig rig"), ...rigJson() },
    profile: { ...head("otarig board profile"), ...toJson(profileSchema) },
  };
}

/** A schema as it is written to its file. */
export function renderJsonSchema(json: Json): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}
