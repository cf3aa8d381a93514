// When a power cut fires: at the nth console line matching a pattern, a delay after it, or
// right after the page holding a byte offset is written (boards that report their writes).
// Knows the board's console and write reports, not scenarios; the caller switches the power.
import type { Board, FlashWrite } from "../board/types.ts";
import type { SweepAt } from "../core/events.ts";

export type CutTrigger =
  | { kind: "line"; pattern: RegExp; nth: number; afterMs?: number }
  /** `area`: count `offset` within that area; else across every write since arming */
  | { kind: "write"; offset: number; area?: string };

/** Where a cut landed: result.json's `at` of a sweep point. */
export type CutLanding = SweepAt;

export interface ArmedCut {
  /** resolves when the trigger fires (the caller then switches the power off) */
  readonly fired: Promise<void>;
  /** where the cut landed; call it once the power is off */
  landing(): CutLanding;
  /** disarms (a held writer is let go) */
  stop(): void;
}

export function armCut(board: Board, trigger: CutTrigger): ArmedCut {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  let done = false;
  const landing: CutLanding = { trigger: trigger.kind === "write" ? "write" : trigger.afterMs !== undefined ? "after" : "line" };
  const stops: Array<() => void> = [];
  let firedAt = 0;
  let lineAt = 0;
  const go = () => {
    if (done) return;
    done = true;
    firedAt = performance.now();
    fire();
  };

  // Every page the board reports until the power is off says where the cut landed.
  let written = 0;
  let last: FlashWrite | undefined;
  const writes = board.writes;
  if (writes) {
    stops.push(
      writes.onWrite((w) => {
        written += w.length;
        last = w;
        if (trigger.kind !== "write") return;
        const counted = trigger.area === undefined ? written : w.area === trigger.area ? w.offset + w.length : -1;
        if (!done && counted > trigger.offset) go(); // held here: the page after it never starts
        else writes.proceed();
      }),
    );
    if (trigger.kind === "write") {
      writes.hold(true);
      // A writer held for a cut that fired stays held until its power is gone (letting it go
      // would let it write on while the relay switches); else it runs free again.
      stops.push(() => (firedAt ? writes.forget() : writes.hold(false)));
    }
  }

  if (trigger.kind === "line") {
    let seen = 0;
    let timer: NodeJS.Timeout | undefined;
    const stopLines = board.console.onLine((line) => {
      if (done || timer || line.cut || !trigger.pattern.test(line.text)) return; // a fragment cut by a gap is no whole line
      if (++seen < trigger.nth) return;
      landing.line = line.text;
      landing.nth = seen;
      lineAt = performance.now();
      if (trigger.afterMs === undefined) go();
      else timer = setTimeout(go, trigger.afterMs);
    });
    stops.push(stopLines, () => clearTimeout(timer));
  }

  return {
    fired,
    landing() {
      if (landing.trigger === "after") landing.after_ms = Math.round(firedAt - lineAt);
      if (last) {
        landing.area = last.area;
        landing.offset = last.offset + last.length;
        if (last.total > 0) {
          landing.total = last.total;
          landing.percent = Math.round((landing.offset * 1000) / last.total) / 10;
        }
        landing.written = written;
      }
      return { ...landing };
    },
    stop() {
      done = true;
      for (const stop of stops.splice(0)) stop();
    },
  };
}
