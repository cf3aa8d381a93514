// The one failure taxonomy (DESIGN §2, after LAVA): every error the harness reports is one of these.
// Only infrastructure errors may be retried; the exit code follows the class.

export type FailureClass = "test" | "infrastructure" | "scenario";

export const EXIT_CODES = {
  pass: 0,
  test: 1,
  scenario: 2,
  infrastructure: 3,
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
  return err instanceof OtarigError ? err.failureClass : "infrastructure";
}

export function exitCodeFor(cls: FailureClass | "pass"): number {
  return cls === "pass" ? EXIT_CODES.pass : EXIT_CODES[cls];
}
