import { EXIT_CODES } from "./errors.ts";

/**
 * A suite's exit code: interruption, then a harness bug (no verdict of that run can be trusted),
 * then infrastructure trouble (CI should alert), then scenario errors, then test failures.
 */
export function worstExitCode(codes: number[]): number {
  for (const code of [EXIT_CODES.interrupted, EXIT_CODES.harness, EXIT_CODES.infrastructure, EXIT_CODES.scenario, EXIT_CODES.test]) {
    if (codes.includes(code)) return code;
  }
  return EXIT_CODES.pass;
}
