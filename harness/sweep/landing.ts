// Where a cut landed, in words: for logs, failure messages, JUnit and the brick map's tooltips.
import type { SweepAt } from "../core/events.ts";

/** `install byte 49152 of 262272 (18.7%)`, `250ms after "install start"`, `match 3 of "…"`. */
export function landingText(at: SweepAt): string {
  if (at.not_reached) return "not reached";
  const line = at.line !== undefined ? `"${at.line}"` : "";
  const armed = at.trigger === "after" ? `${at.after_ms}ms after ${line}` : at.trigger === "line" ? `${at.nth && at.nth > 1 ? `match ${at.nth}: ` : "at "}${line}` : "";
  const where = at.area !== undefined ? `${at.area} byte ${at.offset}${at.total !== undefined ? ` of ${at.total} (${at.percent}%)` : ""}` : "";
  return [armed, where].filter(Boolean).join(", ");
}
