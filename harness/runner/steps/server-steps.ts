// server.*: stop, start and restart the OTA server mid-scenario (its data survives).
import type { StepImpl } from "../context.ts";

export const stop: StepImpl<null | Record<string, never>> = async (ctx) => {
  await ctx.server.stop();
  ctx.bus.emit({ type: "log", level: "warn", source: "server", message: `stopped (${ctx.server.mode})` });
  return { detail: "stopped" };
};

export const start: StepImpl<null | Record<string, never>> = async (ctx) => {
  await ctx.server.start();
  await ctx.onServerMoved?.(ctx.server.url);
  ctx.bus.emit({ type: "log", level: "info", source: "server", message: `started again at ${ctx.server.url}` });
  return { detail: ctx.server.url };
};

export const restart: StepImpl<null | Record<string, never>> = async (ctx, p) => {
  await stop(ctx, p);
  return start(ctx, p);
};
