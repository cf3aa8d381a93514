import { ScenarioError } from "../core/errors.ts";
import type { SourcePosition } from "../core/errors.ts";

/** Compiles a scenario or profile regex; a bad one is the scenario's fault, with its position. */
export function compilePattern(source: string, pos?: SourcePosition): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new ScenarioError(`invalid regular expression /${source}/: ${(err as Error).message}`, pos);
  }
}

/**
 * One regex that matches when any of `sources` does. Named groups are turned into plain groups
 * (JS forbids the same group name twice); callers re-run the single pattern that matched to
 * read its captures.
 */
export function anyOf(sources: string[]): RegExp {
  const stripped = sources.map((s) => `(?:${s.replace(/\(\?<(?![=!])[A-Za-z_$][\w$]*>/g, "(?:")})`);
  return new RegExp(stripped.join("|"));
}
