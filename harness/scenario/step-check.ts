// The run-time half of step validation: after ${…} is resolved, the values the loader had to
// leave alone (enums, durations, names given as "${x}") are checked against the same schemas.
import { ScenarioError } from "../core/errors.ts";
import { stepSchemas } from "./steps.ts";
import type { StepName, StepParams } from "./steps.ts";
import type { Step } from "./types.ts";
import { check, literalDurationErrors } from "./validate.ts";
import { throwIfErrors } from "./yaml-source.ts";

/** Validates a step's interpolated params; throws a ScenarioError at the step's position. */
export function checkStepParams<N extends StepName>(step: Step & { name: N }, params: unknown): StepParams<N> {
  const schema = stepSchemas[step.name];
  const at = { pos: () => step.pos };
  const { value, errors } = check(schema, params, at, [], { what: step.name });
  if (value !== undefined) errors.push(...literalDurationErrors(schema, params, at, []));
  throwIfErrors(errors.map((e) => new ScenarioError(`step ${step.name}: ${e.message} (after \${…} was resolved)`, e.position)));
  return value as StepParams<N>;
}

