// What a board can do, split the labgrid way: a protocol interface per capability, one small
// driver module per backend. Nothing here knows about scenarios or the runner.

export interface ConsoleLine {
  /** Sequence number, counting from 0 at the console's open: a line's place in the output. */
  seq: number;
  /** ms since the console's clock origin (the run start) */
  t: number;
  /** the line with ANSI escapes stripped, no line terminator: what patterns match against */
  text: string;
  /** still unterminated (a prompt, or a line still arriving): `text` is what has arrived so far */
  partial?: boolean;
  /** ended by the port's loss, release or close, not by a terminator: a fragment, matched only as a partial line */
  cut?: boolean;
  /** the line as the board printed it, escapes and control characters included; only when that differs from `text` */
  printed?: string;
}

/**
 * A point in a console's output: before character `offset` of line `seq`. The offset is not 0
 * only inside a line still unterminated at that point (a prompt), so a prompt already seen is not
 * seen again while the rest of its line is.
 */
export interface ConsolePosition {
  seq: number;
  offset: number;
}

/** Where a search starts: a position, a line's seq (from that line's start), or "boot" (everything since the console opened). */
export type ConsoleSince = ConsolePosition | number | "boot";

export interface ExpectOptions {
  withinMs: number;
  /** Only output from `since` on is considered; "boot" = every line since the console opened. Default: now. */
  since?: ConsoleSince;
  /** Text shown in the timeout message ("awaited …"). */
  description?: string;
  /**
   * Also match the line still arriving (no terminator yet): for prompts, which end without one.
   * Default false: a line is matched only once it has ended, so a capture never holds half a value.
   */
  partial?: boolean;
}

export interface ExpectMatch {
  line: ConsoleLine;
  match: RegExpExecArray;
  groups: Record<string, string>;
}

/** Console protocol (Golioth's Board: wait_for_regex_in_line, send_cmd). */
export interface ConsoleProtocol {
  readonly port: string;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Writes raw bytes; while the port is away (re-enumeration) waits for it rather than losing the write. */
  write(data: string | Buffer): Promise<void>;
  /** Sends a command line with the configured line ending (and optional per-character delay). */
  send(command: string, options?: { lineEnding?: string; charDelayMs?: number }): Promise<void>;
  /** The position of now: output from here on is "since the mark". */
  mark(): ConsolePosition;
  /** Waits for a line (or, with `partial`, an unterminated prompt) matching `pattern`. Throws TestFailure on timeout. */
  expect(pattern: RegExp, options: ExpectOptions): Promise<ExpectMatch>;
  /** Fails (TestFailure) if `pattern` appears in lines since `since` or within `forMs`. */
  expectNot(pattern: RegExp, options: { forMs: number; since?: ConsoleSince; partial?: boolean }): Promise<void>;
  /** Waits until the board has printed nothing for `quietMs` (max `withinMs`). */
  settle(quietMs: number, withinMs: number): Promise<void>;
  /** The last `n` lines (ANSI stripped), for error messages and JUnit. */
  tail(n: number): string[];
  onLine(listener: (line: ConsoleLine) => void): () => void;
  /** Gap markers (port lost, back, released): the text also written into the board log. */
  onGap?(listener: (message: string) => void): () => void;
}

// The `signal` of the actions below is the step's: when it aborts (step timeout, Ctrl-C, a failed
// parallel branch) a tool the action runs is stopped, and the action ends once the tool is gone.

/** A relay module with numbered channels (1-based), switched by one backend (lcus, serial-text, command). */
export interface Relay {
  readonly name: string;
  readonly channels: number;
  set(channel: number, on: boolean, signal?: AbortSignal): Promise<void>;
  /** Lets go of the module's port, if it holds one. */
  close(): Promise<void>;
}

export interface PowerProtocol {
  on(signal?: AbortSignal): Promise<void>;
  off(signal?: AbortSignal): Promise<void>;
  cycle(offMs: number, signal?: AbortSignal): Promise<void>;
}

export interface ResetProtocol {
  reset(signal?: AbortSignal): Promise<void>;
}

export interface FlashProtocol {
  /** Writes `image` to the board. `onProgress` gets the flasher's progress (0..1) where it reports it. */
  program(image: string, onProgress?: (fraction: number, line: string) => void, signal?: AbortSignal): Promise<void>;
}

/** A page the board wrote: to its download area or to a slot it installs into (`install`). */
export interface FlashWrite {
  area: string;
  offset: number;
  length: number;
  /** the area's whole size in this write, -1 when the board does not know it */
  total: number;
}

/**
 * A board that reports its flash writes page by page (the virtual board; a debug probe on a
 * real one): what lets a power cut land at an exact write offset.
 */
export interface WriteReportProtocol {
  onWrite(listener: (write: FlashWrite) => void): () => void;
  /** hold the writer after each page until `proceed()` (on), or let it run free (off) */
  hold(on: boolean): void;
  /** lets the held writer write its next page */
  proceed(): void;
  /** holds no more from the next power-on, leaving a held writer held now (its power is going) */
  forget(): void;
}

/** A board: what a scenario's steps act on. Capabilities a rig does not give are absent. */
export interface Board {
  readonly name: string;
  readonly serialNumber: string;
  readonly console: ConsoleProtocol;
  readonly power?: PowerProtocol;
  readonly reset?: ResetProtocol;
  readonly flash?: FlashProtocol;
  readonly writes?: WriteReportProtocol;
  /** Fields a scenario reads as ${boards.<name>.<field>}: serial, port, profile, … */
  readonly fields: Record<string, string>;
}
