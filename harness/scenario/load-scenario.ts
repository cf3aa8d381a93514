// Scenario files (DESIGN §3) -> the typed Scenario, with its rig and the profiles of its boards.
// Everything is checked before anything runs; all errors of a file are reported together.
//
// Steps: a list of mappings, each with exactly one action key (a step name, `repeat` or
// `parallel`) and optionally `name:` (a label) and `timeout:` (a literal duration).
//   - repeat: { times: 3, steps: [ …steps… ] }        -> Step{ params: { times }, children: [steps] }
//   - parallel:                                        -> Step{ params: { branches: [labels] },
//       dut1: [ …steps… ]                                        children: [steps, steps] }
//       dut2: [ …steps… ]
//     (a mapping of branch label -> steps; labels are free, usually the board each branch drives)
//
// Paths: `rig:` resolves from the scenario's directory. `vars` values starting with ./ or ../ are
// paths and resolve from the scenario's directory too (other values stay as written); so do
// literal ./ or ../ values of the params that name files (check-files.ts), which must exist.
import path from "node:path";
import { z } from "zod";
import { ScenarioError } from "../core/errors.ts";
import type { BoardProfile, RigSpec, Scenario, ServerSpec, Step } from "./types.ts";
import { BLOCK_STEP_NAMES, STEP_COMMON_KEYS, STEP_NAMES, stepSchemas, sweepSchema } from "./steps.ts";
import type { StepName } from "./steps.ts";
import { check, describe, durationMs, literalDurationErrors } from "./validate.ts";
import type { Checked } from "./validate.ts";
import { isRelativePath, readRigSource } from "./load-rig.ts";
import { readProfileSource, regexErrors } from "./load-profile.ts";
import { checkReferences } from "./check-refs.ts";
import { checkSweeps } from "./check-sweeps.ts";
import { checkNamedFiles, PATH_PARAMS } from "./check-files.ts";
import { readRigOverride } from "./rig-override.ts";
import { RESERVED_NAMES } from "./interpolate.ts";
import { didYouMean, unknownStepHint } from "./suggest.ts";
import { errorsOf, isRecord, readYamlSource, throwIfErrors } from "./yaml-source.ts";
import type { Path, YamlSource } from "./yaml-source.ts";

export interface LoadedScenario {
  scenario: Scenario;
  rig: RigSpec;
  /** by absolute profile path (BoardSpec.profile) */
  profiles: Record<string, BoardProfile>;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const VAR_NAME = /^[A-Za-z_][\w-]*$/;

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).describe("the scenario's name: its run directory, JUnit testcase and report title"),
  description: z.string().optional().describe("what the scenario shows (rig list prints it)"),
  rig: z.string().min(1).describe("the rig file (relative paths resolve from this file)"),
  boards: z.array(z.string().min(1)).min(1).optional().describe("the rig's boards this scenario uses (default: all of them)"),
  server: z
    .strictObject({
      mode: z
        .enum(["auto", "container", "process", "url"])
        .optional()
        .describe("auto (default): container when a container engine answers, else process; url: a server that already runs at url"),
      url: z.string().min(1).optional().describe("mode url: the base URL of a running server (a url alone means mode url)"),
      image: z.string().min(1).optional().describe("mode container: a user's own server image instead of the reference server"),
      port: z.number().int().min(1).max(65535).optional().describe("mode container: the port the image's server listens on"),
      env: z.record(z.string(), scalar).optional().describe("mode container: environment of the server's container"),
      wait: z
        .strictObject({
          log: z.string().min(1).optional().describe("ready when a log line matches this regex"),
          http: z.string().min(1).optional().describe("ready when this path answers"),
        })
        .optional()
        .describe("mode container: when the image's server is ready"),
    })
    // readServer: mode url needs url
    .meta({ if: { required: ["mode"], properties: { mode: { const: "url" } } }, then: { required: ["url"] } })
    .default({})
    .describe("where the OTA server comes from"),
  vars: z
    .record(z.string(), scalar)
    // readVars: usable names only
    .meta({ propertyNames: { pattern: VAR_NAME.source, not: { enum: [...RESERVED_NAMES] } } })
    .default({})
    .describe("variables, read as ${name}; values starting ./ or ../ are paths from this file"),
  timeout: durationMs.default(60_000).describe("default timeout of every step (default 60s)"),
  fatal: z.array(z.string().min(1)).default([]).describe("patterns that mean a board died, added to the profiles' and the rig's `fatal`"),
  expected_fatal: z.array(z.string().min(1)).default([]).describe("fatal lines this scenario provokes on purpose (e.g. a watchdog test): they do not fail it"),
  secrets: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"))
    .default([])
    .describe("environment variables whose values are secret: *** wherever the harness writes"),
  steps: z.array(z.unknown()).min(1).describe("the steps, run in order"),
});

/** Keys beside a step's action (STEP_COMMON_KEYS). */
export const stepCommonSchema = z.looseObject({
  name: z.string().min(1).optional().describe("a label for the step in reports"),
  timeout: durationMs.optional().describe("this step's timeout (default: the scenario's; a longer `within` gets within + 2s)"),
});

export const repeatSchema = z
  .strictObject({
    times: z.union([z.number().int().positive(), z.string().regex(/\$\{/, "a whole number or a ${…} reference")]).describe("how many rounds"),
    steps: z.array(z.unknown()).min(1).describe("the steps of one round"),
  })
  .describe("runs the steps `times` times (step paths 5.3.2 = block 5, round 3, step 2)");

export const parallelSchema = z
  .record(z.string(), z.array(z.unknown()).min(1))
  .refine((branches) => Object.keys(branches).length > 0, "a mapping of branch label -> steps")
  .meta({ minProperties: 1 })
  .describe("runs each branch's steps at the same time ({ <branch>: [steps…], … }); fails if any branch fails");


export interface LoadOptions {
  /** run on this rig file instead of the scenario's own (`rig run --rig FILE`) */
  rig?: string;
}

export async function loadScenario(file: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  const { value, errors } = await readScenarioSource(await readYamlSource(file), options);
  throwIfErrors(errors);
  return value!;
}

export async function readScenarioSource(src: YamlSource, options: LoadOptions = {}): Promise<Checked<LoadedScenario>> {
  if (src.errors.length > 0) return { errors: src.errors };
  const top = check(scenarioSchema, src.data, src, [], { what: "scenario" });
  const errors = [...top.errors];
  const where = new WeakMap<Step, Path>();
  // Steps are checked even when the header has errors, so one run reports both.
  const rawSteps = isRecord(src.data) && Array.isArray(src.data.steps) ? src.data.steps : [];
  const steps = readSteps(src, rawSteps, ["steps"], errors, where);
  const t = top.value;
  if (!t) return { errors };

  const vars = readVars(src, t.vars, errors);
  const server = readServer(src, t.server, errors);

  // The rig: its own errors are reported with its own file and positions.
  const rigRef = { what: "rig file", pos: src.pos(["rig"]), written: t.rig };
  let rigSrc: YamlSource | undefined;
  let rig: RigSpec | undefined;
  try {
    rigSrc = await readYamlSource(path.resolve(src.dir, t.rig), rigRef);
    const r = readRigSource(rigSrc);
    errors.push(...r.errors);
    rig = r.value;
  } catch (err) {
    errors.push(...errorsOf(err));
  }
  if (!rig || !rigSrc) return { errors };

  const ownRig = rig;
  const boards = t.boards ?? Object.keys(ownRig.boards);
  t.boards?.forEach((name, i) => {
    if (ownRig.boards[name]) return;
    const known = Object.keys(ownRig.boards);
    errors.push(new ScenarioError(`board "${name}" is not in rig ${ownRig.name}${didYouMean(name, known)} (its boards: ${known.join(", ")})`, src.pos(["boards", i])));
  });

  if (options.rig !== undefined) {
    // The scenario's own rig says which boards (and profiles) it was written for; the other rig runs it.
    const used = boards.filter((b) => ownRig.boards[b]);
    const other = await readRigOverride(options.rig, src, ownRig, used, (i) => (t.boards ? ["boards", t.boards.indexOf(used[i]!)] : ["rig"]));
    errors.push(...other.errors);
    if (!other.rig || !other.rigSrc) return { errors };
    rig = other.rig;
    rigSrc = other.rigSrc;
  }

  const scenario: Scenario = {
    file: src.absPath,
    name: t.name,
    rigFile: rig.file,
    boards: boards.filter((b) => rig.boards[b]),
    server,
    vars,
    timeoutMs: t.timeout,
    steps,
    fatal: t.fatal,
    expectedFatal: t.expected_fatal,
    secrets: t.secrets,
  };
  for (const key of ["fatal", "expected_fatal"] as const) {
    t[key].forEach((source, i) => errors.push(...regexErrors(source, src, [key, i], `${key}[${i}]`)));
  }
  if (t.description !== undefined) scenario.description = t.description;

  // Board fields as ${boards.<b>.<field>} sees them; `port` always exists at run time (a virtual board's PTY).
  const known = Object.fromEntries(
    scenario.boards.map((b) => [
      b,
      [
        "serial",
        "serial_number",
        "name",
        "port",
        "profile",
        "server_url", // the board's network proxy to the server (fault.network acts there)
        ...(rig.boards[b]!.virtual ? ["flash_dir"] : []),
        ...(rig.boards[b]!.qemu ? ["disk"] : []),
        ...Object.keys(rig.boards[b]!.extra),
      ],
    ]),
  );
  errors.push(...checkReferences(scenario, { boards: known }, { pathOf: (s) => where.get(s) ?? [], pos: src.pos }));
  errors.push(...checkNamedFiles(scenario.steps, scenario.vars, (s, key) => src.pos([...(where.get(s) ?? []), s.name, key])));

  const profiles: Record<string, BoardProfile> = {};
  const tried = new Set<string>();
  for (const name of scenario.boards) {
    const file = rig.boards[name]!.profile;
    if (tried.has(file)) continue;
    tried.add(file);
    const ref = { what: `profile of board ${name}`, pos: rigSrc.pos(["boards", name, "profile"]) };
    try {
      const p = readProfileSource(await readYamlSource(file, ref));
      errors.push(...p.errors);
      if (p.value) profiles[file] = p.value;
    } catch (err) {
      errors.push(...errorsOf(err));
    }
  }
  errors.push(...checkSweeps(scenario, rig, profiles, { pathOf: (s) => where.get(s) ?? [], pos: src.pos }));
  return errors.length > 0 ? { errors } : { value: { scenario, rig, profiles }, errors };
}

function readVars(src: YamlSource, raw: Record<string, string>, errors: ScenarioError[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!VAR_NAME.test(name) || (RESERVED_NAMES as readonly string[]).includes(name)) {
      errors.push(new ScenarioError(`var name "${name}" is not usable: use letters, digits, _ and -, not ${RESERVED_NAMES.join("/")}`, src.pos(["vars", name], "key")));
    }
    vars[name] = isRelativePath(value) ? path.resolve(src.dir, value) : value;
  }
  return vars;
}

function readServer(src: YamlSource, raw: z.output<typeof scenarioSchema>["server"], errors: ScenarioError[]): ServerSpec {
  // A url alone means "use that server": mode url.
  const mode = raw.mode ?? (raw.url !== undefined ? "url" : "auto");
  if (mode === "url" && raw.url === undefined) {
    errors.push(new ScenarioError('server mode "url" needs server.url (the base URL of a running server)', src.pos(["server", "mode"])));
  }
  const server: ServerSpec = { mode };
  if (raw.url !== undefined) server.url = raw.url;
  if (raw.image !== undefined) server.image = raw.image;
  if (raw.port !== undefined) server.port = raw.port;
  if (raw.env !== undefined) server.env = raw.env;
  if (raw.wait !== undefined) server.wait = raw.wait;
  if (raw.wait?.log !== undefined) errors.push(...regexErrors(raw.wait.log, src, ["server", "wait", "log"]));
  return server;
}

function readSteps(src: YamlSource, list: unknown[], at: Path, errors: ScenarioError[], where: WeakMap<Step, Path>): Step[] {
  const steps: Step[] = [];
  list.forEach((item, i) => {
    const step = readStep(src, item, [...at, i], errors, where);
    if (step) steps.push(step);
  });
  return steps;
}

const ACTIONS: readonly string[] = [...STEP_NAMES, ...BLOCK_STEP_NAMES];
const COMMON: readonly string[] = STEP_COMMON_KEYS;

function readStep(src: YamlSource, item: unknown, p: Path, errors: ScenarioError[], where: WeakMap<Step, Path>): Step | undefined {
  if (!isRecord(item)) {
    errors.push(new ScenarioError(`a step is a mapping like "- expect: { board: dut, pattern: … }", got ${describe(item)}`, src.pos(p)));
    return undefined;
  }
  const keys = Object.keys(item).filter((k) => !COMMON.includes(k));
  const actions = keys.filter((k) => ACTIONS.includes(k));
  for (const k of keys.filter((k) => !ACTIONS.includes(k))) {
    const message =
      actions.length > 0
        ? `unknown key "${k}" beside step "${actions[0]}"${didYouMean(k, COMMON)} (only name and timeout go here; parameters go inside ${actions[0]}: {…})`
        : `unknown step "${k}"${unknownStepHint(k, ACTIONS, COMMON)}`;
    errors.push(new ScenarioError(message, src.pos([...p, k], "key")));
  }
  if (actions.length > 1) {
    errors.push(new ScenarioError(`a step has exactly one action, found "${actions[0]}" and "${actions[1]}" (start each step with its own "-")`, src.pos([...p, actions[1]!], "key")));
  }
  const name = actions[0];
  if (name === undefined) {
    if (keys.length === 0) errors.push(new ScenarioError("step has no action (e.g. expect:, flash:, power:, device.check:)", src.pos(p)));
    return undefined;
  }
  const common = check(stepCommonSchema, item, src, p, { what: "step" });
  errors.push(...common.errors);

  const step: Step = { name, params: item[name], pos: src.pos(p) };
  if (common.value?.name !== undefined) step.label = common.value.name;
  if (common.value?.timeout !== undefined) step.timeoutMs = common.value.timeout;
  where.set(step, p);

  const at: Path = [...p, name];
  if (name === "repeat") {
    const r = check(repeatSchema, item[name], src, at, { what: "repeat" });
    errors.push(...r.errors);
    if (r.value) {
      step.params = { times: r.value.times };
      step.children = [readSteps(src, r.value.steps, [...at, "steps"], errors, where)];
    }
  } else if (name === "parallel") {
    const r = check(parallelSchema, item[name], src, at, { what: "parallel" });
    errors.push(...r.errors);
    if (r.value) {
      step.params = { branches: Object.keys(r.value) };
      step.children = Object.entries(r.value).map(([label, list]) => readSteps(src, list, [...at, label], errors, where));
    }
  } else if (name === "sweep") {
    const r = check(sweepSchema, item[name], src, at, { what: "sweep", deferInterpolated: true });
    errors.push(...r.errors);
    if (r.value) errors.push(...literalDurationErrors(sweepSchema, item[name], src, at));
    // Its steps are read (and checked) even when the sweep's own keys have errors.
    const raw: Record<string, unknown> = isRecord(item[name]) ? item[name] : {};
    const { setup, steps: body, ...params } = raw;
    step.params = resolveParamPaths(src, "sweep", params);
    const list = (v: unknown) => (Array.isArray(v) ? v : []);
    step.children = [readSteps(src, list(setup), [...at, "setup"], errors, where), readSteps(src, list(body), [...at, "steps"], errors, where)];
  } else {
    const schema = stepSchemas[name as StepName] as z.ZodType;
    const r = check(schema, item[name], src, at, { what: name, deferInterpolated: true });
    errors.push(...r.errors);
    if (r.value !== undefined) {
      errors.push(...literalDurationErrors(schema, item[name], src, at));
      step.params = resolveParamPaths(src, name as StepName, item[name]);
      const pattern = isRecord(item[name]) ? item[name].pattern : undefined;
      if (name === "expect" && typeof pattern === "string" && !pattern.includes("${")) {
        errors.push(...regexErrors(pattern, src, [...at, "pattern"], "pattern"));
      }
    }
  }
  return step;
}

/** A step's file params (a sweep's base and target too) resolve from the scenario's directory. */
function resolveParamPaths(src: YamlSource, name: StepName | "sweep", params: unknown): unknown {
  const keys = PATH_PARAMS[name];
  if (!keys || !isRecord(params)) return params;
  const out = { ...params };
  for (const k of keys) {
    const v = out[k];
    if (typeof v === "string" && isRelativePath(v)) out[k] = path.resolve(src.dir, v);
  }
  return out;
}
