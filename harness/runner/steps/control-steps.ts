// wait and set: plain control of the run.
import { setTimeout as sleep } from "node:timers/promises";
import { parseDuration } from "../../core/duration.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";

export const wait: StepImpl<StepParams<"wait">> = async (ctx, p) => {
  const ms = parseDuration(typeof p === "object" ? p.for : p);
  await sleep(ms, undefined, { signal: ctx.signal });
};

export const set: StepImpl<StepParams<"set">> = async (ctx, p) => {
  for (const [name, value] of Object.entries(p)) ctx.outputs.set(name, String(value));
  return { detail: Object.keys(p).join(", ") };
};
