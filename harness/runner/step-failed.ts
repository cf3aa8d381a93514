// A step's failure on its way up through nested blocks, carrying the failing step's path and `file:line:col`.
import { ScenarioError } from "../core/errors.ts";

export class StepFailed extends Error {
  constructor(
    readonly path: string,
    readonly at: string,
    override readonly cause: unknown,
  ) {
    super(messageOf(cause));
  }
}

/** What a step really threw, under its StepFailed wrapper. */
export function stepCause(err: unknown): unknown {
  return err instanceof StepFailed ? err.cause : err;
}

export function messageOf(err: unknown): string {
  if (err instanceof ScenarioError) return err.toString();
  if (err instanceof Error) return err.message;
  return String(err);
}
