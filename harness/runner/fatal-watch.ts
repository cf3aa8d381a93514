// Fatal console patterns: a line that means the firmware died (a panic, a watchdog, a failed
// assert) fails whatever step is running at once, as a test failure with that line and the lines
// before it, instead of the step waiting out its timeout while the board crash-loops. Patterns
// come from the board's profile, the rig's board entry and the scenario; a scenario that provokes
// a crash on purpose lists it in `expected_fatal`.
import { TestFailure } from "../core/errors.ts";
import type { EventBus } from "../core/events.ts";
import type { Scenario } from "../scenario/types.ts";
import type { BoardHandle } from "./board-handle.ts";
import { anyOf, compilePattern } from "./patterns.ts";

const LINES_BEFORE = 10;
const LINES_IN_TAIL = 20;

export interface FatalWatch {
  /** Rejects with the TestFailure when a board prints a fatal line; never resolves. */
  readonly failed: Promise<never>;
  /** while a board is quiet its fatal lines fail nothing (a sweep classifies them itself) */
  quiet(board: string, on: boolean): void;
  stop(): void;
}

export function watchFatal(boards: Map<string, BoardHandle>, scenario: Pick<Scenario, "fatal" | "expectedFatal">, bus: EventBus): FatalWatch {
  let fail!: (err: TestFailure) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {}); // raced by every step; nobody may be racing it at the moment it fails
  let done = false;
  const expected = scenario.expectedFatal.length ? anyOf(scenario.expectedFatal) : undefined;
  const stops: Array<() => void> = [];
  const quiet = new Set<string>();

  for (const [name, { board, profile, spec }] of boards) {
    const sources = [...profile.fatal, ...(spec.fatal ?? []), ...scenario.fatal];
    if (sources.length === 0) continue;
    const fatal = anyOf(sources);
    stops.push(
      board.console.onLine((line) => {
        if (done || line.cut || quiet.has(name) || !fatal.test(line.text)) return; // a fragment cut by a gap is no whole line
        if (expected?.test(line.text)) {
          bus.emit({ type: "log", level: "info", source: name, message: `expected fatal line: ${line.text}` });
          return;
        }
        done = true;
        const which = sources.find((s) => compilePattern(s).test(line.text)) ?? sources[0]!;
        const tail = board.console.tail(LINES_IN_TAIL);
        const at = tail.lastIndexOf(line.text); // the tail may end with a partial line after it
        const before = at >= 0 ? tail.slice(Math.max(0, at - LINES_BEFORE), at) : tail.slice(-LINES_BEFORE);
        const shown = before.length ? `; the lines before it:\n${before.map((l) => `  | ${l}`).join("\n")}` : "";
        fail(
          new TestFailure(`board ${name} printed a fatal line (/${which}/): "${line.text}"${shown}`, {
            consoleTail: tail,
          }),
        );
      }),
    );
  }
  return {
    failed,
    quiet: (board, on) => void (on ? quiet.add(board) : quiet.delete(board)),
    stop: () => {
      done = true;
      for (const stop of stops) stop();
    },
  };
}
