// fleet.stop: every device's loop ends, every connection and timer goes; the fleet's figures go
// to result.json. Teardown calls the same, so a run never leaves a fleet behind.
import type { RunContext, StepImpl } from "../context.ts";
import { standing } from "../../fleet/bounds.ts";

export async function stopFleet(ctx: RunContext): Promise<void> {
  const running = ctx.fleet.running;
  if (!running) return;
  delete ctx.fleet.running;
  const { series: _series, ...summary } = await running.fleet.stop();
  ctx.fleet.stopped = { ...summary, series: [] };
  ctx.bus.emit({ type: "fleet.summary", summary });
}

export const stop: StepImpl<null | Record<string, never>> = async (ctx) => {
  if (!ctx.fleet.running) return { detail: "no fleet running" };
  await stopFleet(ctx);
  return { detail: standing(ctx.fleet.stopped!) };
};
