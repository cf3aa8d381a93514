// expect, console.send, settle: the console protocol as scenario steps.
import { parseDuration } from "../../core/duration.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepContext, StepImpl } from "../context.ts";
import { compilePattern } from "../patterns.ts";
import { lineEndingOf } from "../device-actions.ts";

export const expect: StepImpl<StepParams<"expect">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  const pattern = compilePattern(p.pattern, ctx.step.pos);
  const within = p.within !== undefined ? parseDuration(p.within) : ctx.timeoutMs;
  const since = p.since === "boot" ? "boot" : p.since === "match" ? sinceLastMatch(ctx, p.board) : ctx.marks.get(p.board);
  if (p.not) {
    await board.console.expectNot(pattern, { forMs: within, partial: p.partial ?? false, ...(since !== undefined ? { since } : {}) });
    return { detail: `not seen in ${within / 1000}s` };
  }
  const m = await board.console.expect(pattern, {
    withinMs: within,
    ...(since !== undefined ? { since } : {}),
    partial: p.partial ?? false, // the timeout names the pattern and the board, once each
  });
  ctx.lastMatch.set(p.board, m.line.seq);
  for (const [name, value] of Object.entries(m.groups)) ctx.outputs.set(name, value);
  ctx.bus.emit({ type: "match", board: p.board, path: ctx.path, pattern: p.pattern, line: m.line.text });
  return { detail: m.line.text };
};

/**
 * From the line the last expect or device step matched on this board (inclusive, so a device
 * step's own result line can be examined); with none yet, everything.
 */
function sinceLastMatch(ctx: StepContext, board: string): number | "boot" {
  return ctx.lastMatch.get(board) ?? "boot";
}

export const consoleSend: StepImpl<StepParams<"console.send">> = async (ctx, p) => {
  const handle = ctx.handle(p.board);
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
