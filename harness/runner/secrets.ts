// Which values of a run are secret: those of the environment variables the scenario declares
// (`secrets: [WIFI_PSK]`), and of the ones it reads (${env.NAME}) whose names look secret. The
// Redactor made from them replaces each by *** wherever the harness writes.
import { Redactor } from "../core/redact.ts";
import { parseTemplate } from "../scenario/interpolate.ts";
import type { Scenario, Step } from "../scenario/types.ts";

/** Environment variable names that look secret. */
export const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD|PSK/i;

/**
 * A value this short, found only by its name, is not hidden: replacing every "1" or "on" in the
 * logs would hide more than it protects. A declared secret is hidden whatever its length.
 */
const MIN_GUESSED_LENGTH = 4;

export interface Secrets {
  redactor: Redactor;
  /** names of the variables whose values are hidden (for the run log; never the values) */
  names: string[];
  /** names that look secret but whose value is too short to hide */
  tooShort: string[];
}

export function scenarioSecrets(scenario: Pick<Scenario, "secrets" | "steps" | "vars" | "server">, env: NodeJS.ProcessEnv = process.env): Secrets {
  const values: string[] = [];
  const names: string[] = [];
  const tooShort: string[] = [];
  for (const name of scenario.secrets) {
    const v = env[name];
    if (v) {
      values.push(v);
      names.push(name);
    }
  }
  for (const ref of envReferences(scenario)) {
    if (scenario.secrets.includes(ref.name) || !SECRET_NAME.test(ref.name)) continue;
    // What ${env.NAME:-default} resolves to (the default also stands for an empty value).
    const v = env[ref.name] || ref.fallback;
    if (!v) continue;
    if (v.length < MIN_GUESSED_LENGTH) {
      if (!tooShort.includes(ref.name)) tooShort.push(ref.name);
      continue;
    }
    values.push(v);
    if (!names.includes(ref.name)) names.push(ref.name);
  }
  return { redactor: new Redactor(values), names, tooShort };
}

/** Every ${env.NAME} the scenario's steps, vars and server settings hold. */
function envReferences(scenario: Pick<Scenario, "steps" | "vars" | "server">): Array<{ name: string; fallback?: string }> {
  const refs: Array<{ name: string; fallback?: string }> = [];
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      if (!v.includes("${env.")) return;
      try {
        for (const part of parseTemplate(v)) if (typeof part !== "string" && part.kind === "env") refs.push(part);
      } catch {
        // a malformed template is the loader's or the step's error to report
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  const visitSteps = (steps: Step[]): void => {
    for (const step of steps) {
      visit(step.params);
      for (const child of step.children ?? []) visitSteps(child);
    }
  };
  visitSteps(scenario.steps);
  visit(scenario.vars);
  visit(scenario.server.env);
  return refs;
}
