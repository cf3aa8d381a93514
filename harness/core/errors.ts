// The one failure taxonomy (DESIGN §2, after LAVA): every error the harness reports is one of these.
// Only infrastructure errors may be retried; the exit code follows the class.
import { AssertionError } from "node:assert";

/** "harness": a bug in otarig itself (an exception no code path meant to throw), never the lab's. */
export type FailureClass = "test" | "infrastructure" | "scenario" | "harness";

export const EXIT_CODES = {
  pass: 0,
  test: 1,
  scenario: 2,
  infrastructure: 3,
  harness: 4,
  interrupted: 130,
} as const;

export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** `file:line:col`, the form editors and CI annotations understand. */
export function formatPosition(p: SourcePosition): string {
  return `${p.file}:${p.line}:${p.col}`;
}

export abstract class OtarigError extends Error {
  abstract readonly failureClass: FailureClass;
  /** Last lines a board printed, shown with the message (timeouts, failed expectations). */
  consoleTail?: string[];
  constructor(message: string, options?: { cause?: unknown; consoleTail?: string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.consoleTail) this.consoleTail = options.consoleTail;
  }
}

/** An assertion or expectation about the device or the server did not hold. */
export class TestFailure extends OtarigError {
  readonly failureClass = "test" as const;
}

/** Something the test needs is broken: port missing, flasher failed, relay silent, engine down. */
export class InfraError extends OtarigError {
  readonly failureClass = "infrastructure" as const;
}

/** The scenario, rig or profile is wrong: bad YAML, unknown step, unknown variable. */
export class ScenarioError extends OtarigError {
  readonly failureClass = "scenario" as const;
  constructor(
    message: string,
    readonly position?: SourcePosition,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** `file:line:col: message`, the form editors and CI annotations understand. */
  override toString(): string {
    const p = this.position;
    return p ? `${formatPosition(p)}: ${this.message}` : this.message;
  }
}

/** Several errors found at once (a validator reports all it finds, not just the first). */
export class ScenarioErrors extends ScenarioError {
  constructor(readonly errors: ScenarioError[]) {
    super(errors.map(String).join("\n"), errors[0]?.position);
  }
  override toString(): string {
    return this.message;
  }
}

export function failureClassOf(err: unknown): FailureClass {
  if (err instanceof OtarigError) return err.failureClass;
  return isHarnessBug(err) ? "harness" : "infrastructure";
}

/** The exceptions JavaScript throws for a mistake in the code (a property of undefined, a bad argument). */
const BUG_TYPES = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError, AssertionError];

/**
 * An unexpected exception: the harness's own bug, not trouble in the lab. A system call's failure
 * (ENOENT, ECONNREFUSED, …) and fetch's "fetch failed" TypeError (whose cause is the socket's
 * error) are the lab's, as is any plain Error a library throws about a port or a process.
 */
export function isHarnessBug(err: unknown): boolean {
  if (err instanceof OtarigError || !BUG_TYPES.some((type) => err instanceof type)) return false;
  return !causedBySystem(err as Error);
}

function causedBySystem(err: Error): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z0-9]+|UND_ERR_\w+)$/.test(code)) return true;
    if (e.message === "fetch failed") return true;
  }
  return false;
}

/** The one line a harness bug gets on the terminal (the stack goes to run.log). */
export function harnessBugMessage(err: unknown, stackIn: string): string {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return `otarig internal error (a bug in otarig, not in the board or the lab; please report it): ${what} (stack in ${stackIn})`;
}

export function exitCodeFor(cls: FailureClass | "pass"): number {
  return cls === "pass" ? EXIT_CODES.pass : EXIT_CODES[cls];
}

/** An error outside any run directory (a command's own): its text for stderr (a bug's stack after its one line) and exit code. */
export function uncaughtReport(err: unknown): { text: string; exitCode: number } {
  const failureClass = failureClassOf(err);
  if (failureClass === "harness") return { text: `${harnessBugMessage(err, "the lines below")}\n${(err as Error).stack}`, exitCode: EXIT_CODES.harness };
  const text = err instanceof ScenarioError ? err.toString() : err instanceof Error ? err.message : String(err);
  return { text, exitCode: EXIT_CODES[failureClass] };
}
