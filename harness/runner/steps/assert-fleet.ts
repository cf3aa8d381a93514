// assert.fleet: the fleet's figures now (or as it stopped) meet every bound.
import { ScenarioError, TestFailure } from "../../core/errors.ts";
import { standing, unmet, type Bounds } from "../../fleet/bounds.ts";
import type { FleetSummary } from "../../fleet/metrics.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepContext, StepImpl } from "../context.ts";

/** The running fleet's figures, else those it stopped with. */
export function fleetFigures(ctx: StepContext): Omit<FleetSummary, "series"> {
  const running = ctx.fleet.running?.fleet.summary();
  const figures = running ?? ctx.fleet.stopped;
  if (!figures) throw new ScenarioError("no fleet in this run: start one with fleet.start first", ctx.step.pos);
  return figures;
}

export const assertFleet: StepImpl<StepParams<"assert.fleet">> = async (ctx, p) => {
  const figures = fleetFigures(ctx);
  const off = unmet(figures, p as Bounds);
  if (off.length) throw new TestFailure(`assert.fleet: ${off.join("; ")}. ${standing(figures)}`);
  return { detail: standing(figures) };
};
