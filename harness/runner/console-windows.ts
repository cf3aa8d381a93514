// Where an `expect` looks by default, per board (DESIGN §8), as pexpect reads a stream: from
// the cursor after the last output an expect or device step consumed, so a reply to the last
// action is seen however soon it arrived and a consumed line never matches again; but never from
// before the start of the most recent step that acted on the board (send, power, reset, flash, a
// device step, a fault that fired), so a banner left from an earlier boot cannot pass for the next.
import type { ConsolePosition } from "../board/types.ts";
import { BOOT, laterOf } from "../board/console/position.ts";

export class ConsoleWindows {
  private readonly cursor = new Map<string, ConsolePosition>();
  private readonly floor = new Map<string, ConsolePosition>();

  /** An expect or device step consumed the board's output up to `position`. */
  consumed(board: string, position: ConsolePosition): void {
    this.cursor.set(board, laterOf(position, this.cursor.get(board) ?? BOOT));
  }

  /** A step began acting on the board at `mark` (its console mark when it started). */
  acted(board: string, mark: ConsolePosition): void {
    this.floor.set(board, laterOf(mark, this.floor.get(board) ?? BOOT));
  }

  /** The default window's start: after what was consumed, not before the last action. */
  start(board: string): ConsolePosition {
    return laterOf(this.cursor.get(board) ?? BOOT, this.floor.get(board) ?? BOOT);
  }
}
