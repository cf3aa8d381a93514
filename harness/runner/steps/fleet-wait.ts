// fleet.wait: until every bound on the fleet's figures holds (updated: ">= 99%"), or the time is
// up: then the failure names each unmet bound and where the fleet stands.
import { setTimeout as sleep } from "node:timers/promises";
import { parseDuration } from "../../core/duration.ts";
import { ScenarioError, TestFailure } from "../../core/errors.ts";
import { standing, unmet, type Bounds } from "../../fleet/bounds.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";
import { fleetFigures } from "./assert-fleet.ts";

const POLL_MS = 250;

export const wait: StepImpl<StepParams<"fleet.wait">> = async (ctx, p) => {
  const { within, ...bounds } = p;
  if (!ctx.fleet.running && !ctx.fleet.stopped) throw new ScenarioError("fleet.wait needs a fleet: start one with fleet.start first", ctx.step.pos);
  // Inside the step's timeout, so this step's own message (with the counts) is the one shown.
  const withinMs = within !== undefined ? parseDuration(within) : Math.max(1000, ctx.timeoutMs - 2000);
  const deadline = Date.now() + withinMs;
  for (let n = 0; ; n++) {
    const figures = fleetFigures(ctx);
    const off = unmet(figures, bounds as Bounds);
    if (off.length === 0) return { detail: standing(figures) };
    if (Date.now() >= deadline || !ctx.fleet.running) {
      throw new TestFailure(`fleet.wait: not within ${withinMs / 1000}s: ${off.join("; ")}. ${standing(figures)}`);
    }
    if (n % 4 === 0) ctx.progress(standing(figures), figures.devices ? figures.updated / figures.devices : undefined);
    await sleep(POLL_MS, undefined, { signal: ctx.signal });
  }
};
