// Load-time cross-reference check of a scenario, so that a typo fails before any hardware is
// touched: every ${…} must name something that exists by the time the string is used, every
// `board:` a board of the scenario, every `firmware:` a name an earlier backend.create gave.
import { ScenarioError } from "../core/errors.ts";
import type { SourcePosition } from "../core/errors.ts";
import type { Scenario, Step } from "./types.ts";
import { RESERVED_NAMES, SERVER_FIELDS, references } from "./interpolate.ts";
import type { Reference } from "./interpolate.ts";
import { didYouMean } from "./suggest.ts";
import { isRecord } from "./yaml-source.ts";
import type { Path } from "./yaml-source.ts";

export interface KnownNames {
  /** board name -> the fields ${boards.<board>.<field>} may read */
  boards: Record<string, string[]>;
}

export interface Locator {
  /** data path of a step in its file (["steps", 4] or deeper inside a block) */
  pathOf(step: Step): Path;
  pos(path: Path, part?: "key" | "value"): SourcePosition;
}

/** Names a step makes available to the steps after it (the runner sets the same names). */
export function stepOutputs(step: Step): string[] {
  const p = step.params;
  if (!isRecord(p)) return [];
  switch (step.name) {
    case "expect":
      return p.not === true || typeof p.pattern !== "string" ? [] : captureNames(p.pattern);
    case "backend.create":
      // The firmware key is a secret: it never becomes a variable (it could end up in a log).
      return typeof p.as === "string" ? [`${p.as}.id`] : [];
    case "backend.upload":
      return typeof p.firmware === "string" ? [`${p.firmware}.hash`] : [];
    case "vendor.register":
      return typeof p.model === "string" ? [`${p.model}.id`] : [];
    case "vendor.upload":
      return typeof p.as === "string" ? [`${p.as}.uuid`, `${p.as}.hash`] : [];
    case "vendor.deploy":
      return typeof p.artifact === "string" ? [`${p.artifact}.deployment`] : [];
    case "set":
      return Object.keys(p);
    case "browser.expect":
      return typeof p.as === "string" && p.not !== true ? [p.as] : [];
    default:
      return [];
  }
}

/** Named groups `(?<name>…)` of a regex source. */
export function captureNames(pattern: string): string[] {
  return [...pattern.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
}

/** What a sweep's steps read as ${…}: the point and its 1-based index. */
export const SWEEP_VARIABLES = ["sweep.point", "sweep.index"];

export function checkReferences(scenario: Scenario, known: KnownNames, at: Locator): ScenarioError[] {
  const errors: ScenarioError[] = [];
  const vars = Object.keys(scenario.vars);
  const boardNames = Object.keys(known.boards);

  // ${board.<field>}: a field every board of the scenario has, in a step that acts on a board.
  const commonFields = Object.values(known.boards).reduce<string[] | undefined>((acc, f) => (acc ? acc.filter((x) => f.includes(x)) : [...f]), undefined) ?? [];
  const checkStrings = (value: unknown, path: Path, produced: ReadonlySet<string>, onBoard = false): void => {
    if (typeof value === "string") {
      if (!value.includes("${")) return;
      const pos = at.pos(path);
      let refs: Reference[];
      try {
        refs = references(value, pos);
      } catch (err) {
        errors.push(err as ScenarioError);
        return;
      }
      for (const ref of refs) {
        const problem = unknownRef(ref, produced, onBoard);
        if (problem) errors.push(new ScenarioError(problem, pos));
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => checkStrings(v, [...path, i], produced, onBoard));
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) checkStrings(v, [...path, k], produced, onBoard);
  };

  const unknownRef = (ref: Reference, produced: ReadonlySet<string>, onBoard: boolean): string | undefined => {
    if (ref.kind === "env") return undefined;
    const [head, ...rest] = ref.path;
    const name = ref.path.join(".");
    let ok: boolean;
    if (head === "vars") ok = rest.length === 1 && vars.includes(rest[0]!);
    else if (head === "boards") ok = rest.length === 2 && (known.boards[rest[0]!] ?? []).includes(rest[1]!);
    else if (head === "server") ok = rest.length === 1 && (SERVER_FIELDS as readonly string[]).includes(rest[0]!);
    else if (head === "board") {
      if (!onBoard) return `${ref.text} needs a step that acts on a board (one with board: <name> or board: all)`;
      ok = rest.length === 1 && commonFields.includes(rest[0]!);
    }
    else if (head === "env") ok = false;
    else ok = (rest.length === 0 && vars.includes(name)) || produced.has(name);
    if (ok) return undefined;
    const candidates = [
      ...vars,
      ...vars.map((v) => `vars.${v}`),
      ...produced,
      ...Object.entries(known.boards).flatMap(([b, fields]) => fields.map((f) => `boards.${b}.${f}`)),
      ...SERVER_FIELDS.map((f) => `server.${f}`),
      ...(onBoard ? commonFields.map((f) => `board.${f}`) : []),
    ];
    const hint = didYouMean(name, candidates);
    const why = produced.size === 0 && !hint && rest.length === 0 ? " (not a var, and no earlier step produces it)" : "";
    return `unknown variable ${ref.text}${hint}${why}`;
  };

  // vars and server settings are resolved before any step runs: no step outputs.
  const none = new Set<string>();
  for (const [k, v] of Object.entries(scenario.vars)) checkStrings(v, ["vars", k], none);
  checkStrings({ ...scenario.server, mode: undefined }, ["server"], none);

  const firmwares = new Set<string>();
  const artifacts = new Set<string>();
  const walk = (steps: Step[], produced: Set<string>): void => {
    for (const step of steps) {
      const path = at.pathOf(step);
      const params = step.params;
      checkStrings(params, [...path, step.name], produced, isRecord(params) && typeof params.board === "string");
      if (isRecord(params)) {
        checkBoard(params.board, [...path, step.name, "board"]);
        checkNames(step, params, path);
      }
      if (step.name === "parallel") {
        // Each branch sees what came before the block; everything is known after it.
        const after = new Set(produced);
        for (const branch of step.children ?? []) {
          const own = new Set(produced);
          walk(branch, own);
          for (const n of own) after.add(n);
        }
        for (const n of after) produced.add(n);
      } else {
        // A sweep's setup and steps see the point: ${sweep.point}, ${sweep.index}.
        const inner = step.name === "sweep" ? new Set([...produced, ...SWEEP_VARIABLES]) : produced;
        for (const body of step.children ?? []) walk(body, inner);
        if (inner !== produced) for (const n of inner) if (!SWEEP_VARIABLES.includes(n)) produced.add(n);
      }
      for (const n of stepOutputs(step)) produced.add(n);
      if (step.name === "backend.create" && isRecord(params) && typeof params.as === "string") firmwares.add(params.as);
      if (step.name === "vendor.upload" && isRecord(params) && typeof params.as === "string") artifacts.add(params.as);
    }
  };

  const checkBoard = (board: unknown, path: Path): void => {
    if (typeof board !== "string" || board.includes("${") || board === "all" || scenario.boards.includes(board)) return;
    const hint = didYouMean(board, [...scenario.boards, "all"]);
    errors.push(new ScenarioError(`unknown board "${board}"${hint} (this scenario uses: ${scenario.boards.join(", ")}, or all)`, at.pos(path)));
  };

  const checkNames = (step: Step, params: Record<string, unknown>, path: Path): void => {
    const fw = params.firmware;
    if (step.name.startsWith("backend.") && typeof fw === "string" && !fw.includes("${") && !firmwares.has(fw)) {
      const hint = didYouMean(fw, firmwares) || (firmwares.size ? "" : " (create one first: backend.create: { as: <name> })");
      errors.push(new ScenarioError(`unknown firmware "${fw}": no earlier backend.create names it${hint}`, at.pos([...path, step.name, "firmware"])));
    }
    const artifact = params.artifact;
    if (typeof artifact === "string" && !artifact.includes("${") && !artifacts.has(artifact)) {
      const hint = didYouMean(artifact, artifacts) || (artifacts.size ? "" : " (upload one first: vendor.upload: { file: …, as: <name> })");
      errors.push(new ScenarioError(`unknown artifact "${artifact}": no earlier vendor.upload names it${hint}`, at.pos([...path, step.name, "artifact"])));
    }
    const names = (step.name === "backend.create" || step.name === "vendor.upload") && typeof params.as === "string" ? [["as", params.as]] : step.name === "set" ? Object.keys(params).map((k) => [k, k]) : [];
    for (const [key, name] of names) {
      if ((RESERVED_NAMES as readonly string[]).includes(name!)) {
        errors.push(new ScenarioError(`"${name}" is reserved (${RESERVED_NAMES.join(", ")}): choose another name`, at.pos([...path, step.name, key!], step.name === "set" ? "key" : "value")));
      }
    }
  };

  walk(scenario.steps, new Set());
  return errors;
}
