// expect, console.send, settle: the console protocol as scenario steps.
import { parseDuration } from "../../core/duration.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { ConsoleSince } from "../../board/types.ts";
import { positionAfter } from "../../board/console/position.ts";
import type { StepContext, StepImpl } from "../context.ts";
import { compilePattern } from "../patterns.ts";
import { lineEndingOf } from "../device-actions.ts";

export const expect: StepImpl<StepParams<"expect">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  const pattern = compilePattern(p.pattern, ctx.step.pos);
  const within = p.within !== undefined ? parseDuration(p.within) : ctx.timeoutMs;
  const since = windowStart(ctx, p.board, p.since);
  if (p.not) {
    await board.console.expectNot(pattern, { forMs: within, partial: p.partial ?? false, since });
    return { detail: `not seen in ${within / 1000}s` };
  }
  const m = await board.console.expect(pattern, {
    withinMs: within,
    since,
    partial: p.partial ?? false, // the timeout names the pattern and the board, once each
  });
  ctx.lastMatch.set(p.board, m.line.seq);
  ctx.windows.consumed(p.board, positionAfter(m.line));
  for (const [name, value] of Object.entries(m.groups)) ctx.outputs.set(name, value);
  ctx.bus.emit({ type: "match", board: p.board, path: ctx.path, pattern: p.pattern, line: m.line.text });
  return { detail: m.line.text };
};

/**
 * Default: after what earlier expects and device steps consumed, never before the last step that
 * acted on the board (ConsoleWindows). "step": output since this step started. "match": from the
 * line the last expect or device step matched (inclusive, so a device step's own result line can
 * be examined); with none yet, everything. "boot": everything.
 */
function windowStart(ctx: StepContext, board: string, since: "step" | "match" | "boot" | undefined): ConsoleSince {
  if (since === "boot") return "boot";
  if (since === "match") return ctx.lastMatch.get(board) ?? "boot";
  if (since === "step") return ctx.marks.get(board) ?? ctx.handle(board).board.console.mark();
  return ctx.windows.start(board);
}

export const consoleSend: StepImpl<StepParams<"console.send">> = async (ctx, p) => {
  const handle = ctx.handle(p.board);
  ctx.acted(p.board);
  await handle.board.console.send(p.line, {
    lineEnding: p.line_ending ?? lineEndingOf(handle),
    ...(p.char_delay !== undefined ? { charDelayMs: parseDuration(p.char_delay) } : {}),
  });
};

export const settle: StepImpl<StepParams<"settle">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  const quiet = parseDuration(p.quiet);
  await board.console.settle(quiet, p.within !== undefined ? parseDuration(p.within) : ctx.timeoutMs);
};
