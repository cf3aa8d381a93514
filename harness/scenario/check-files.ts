// The files a scenario names (images to flash, files to upload, expected hashes given as files)
// must exist before anything starts: a missing image found only once the server container is up
// would break the promise that exit 2 touched nothing. Values that need a run to be known
// (${fw.id}, ${boards.…}) are left to the step; ${vars} and ${env} are resolved here.
import { existsSync } from "node:fs";
import { ScenarioError, type SourcePosition } from "../core/errors.ts";
import { interpolateString } from "./interpolate.ts";
import type { StepName } from "./steps.ts";
import type { Step } from "./types.ts";

/** Step params that name a file (relative ./ ../ ones resolve from the scenario file). */
export const PATH_PARAMS: Partial<Record<StepName | "sweep", string[]>> = {
  flash: ["image"],
  sweep: ["base", "target"],
  "backend.upload": ["file"],
  "vendor.upload": ["file"],
  "browser.upload": ["file"],
  "assert.hash": ["equals"],
  "assert.device": ["hash"],
};

/** Params where a 64-digit hex digest may stand instead of the file. */
const DIGEST_OR_FILE = new Set(["assert.hash.equals", "assert.device.hash"]);

export function checkNamedFiles(steps: Step[], vars: Record<string, string>, posOf: (step: Step, key: string) => SourcePosition): ScenarioError[] {
  const errors: ScenarioError[] = [];
  for (const step of steps) {
    for (const block of step.children ?? []) errors.push(...checkNamedFiles(block, vars, posOf));
    const params = step.params as Record<string, unknown> | null | undefined;
    for (const key of PATH_PARAMS[step.name as StepName | "sweep"] ?? []) {
      const written = params?.[key];
      if (typeof written !== "string") continue;
      const file = staticValue(written, vars);
      if (file === undefined || file === "") continue;
      if (DIGEST_OR_FILE.has(`${step.name}.${key}`) && /^[0-9a-fA-F]{64}$/.test(file)) continue;
      if (existsSync(file)) continue;
      const shown = file === written ? file : `${file} (from ${written})`;
      errors.push(new ScenarioError(`${step.name} ${key}: no file ${shown}`, posOf(step, key)));
    }
  }
  return errors;
}

/** The value with ${vars} and ${env} resolved, or undefined when it needs the run (step outputs, boards, server). */
function staticValue(text: string, vars: Record<string, string>): string | undefined {
  try {
    return interpolateString(text, { vars, outputs: {}, boards: {}, server: {}, env: process.env });
  } catch {
    return undefined;
  }
}
