// Resolves a step's ${…} just before it runs, so it sees what earlier steps produced.
import { interpolate, type Scope } from "../scenario/interpolate.ts";
import type { Step } from "../scenario/types.ts";
import type { RunContext } from "./context.ts";

/** `board`: the board the step acts on, for ${board.<field>} (default: the step's own `board:`). */
export function scopeOf(ctx: RunContext, board?: string): Scope {
  const fields = board !== undefined ? ctx.boards.get(board)?.board.fields : undefined;
  return {
    ...(fields ? { board: fields } : {}),
    vars: ctx.scenario.vars,
    outputs: Object.fromEntries(ctx.outputs),
    boards: Object.fromEntries([...ctx.boards].map(([name, h]) => [name, h.board.fields])),
    server: { url: ctx.server.url, ...(ctx.server.credentials.apiKey ? { vendor: ctx.server.credentials.apiKey.vendor } : {}) },
    env: process.env,
  };
}

export function interpolateStep(ctx: RunContext, step: Step, board?: string): unknown {
  const own = (step.params as { board?: unknown } | null)?.board;
  return interpolate(step.params, scopeOf(ctx, board ?? (typeof own === "string" ? own : undefined)), step.pos);
}
