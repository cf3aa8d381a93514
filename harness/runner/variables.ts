// Resolves a step's ${…} just before it runs, so it sees what earlier steps produced.
import { interpolate, type Scope } from "../scenario/interpolate.ts";
import type { Step } from "../scenario/types.ts";
import type { RunContext } from "./context.ts";

export function scopeOf(ctx: RunContext): Scope {
  return {
    vars: ctx.scenario.vars,
    outputs: Object.fromEntries(ctx.outputs),
    boards: Object.fromEntries([...ctx.boards].map(([name, h]) => [name, h.board.fields])),
    server: { url: ctx.server.url, ...(ctx.server.credentials.apiKey ? { vendor: ctx.server.credentials.apiKey.vendor } : {}) },
    env: process.env,
  };
}

export function interpolateStep(ctx: RunContext, step: Step): unknown {
  return interpolate(step.params, scopeOf(ctx), step.pos);
}
