// flash, power, reset: what the rig's hardware does to a board.
import { basename } from "node:path";
import { existsSync } from "node:fs";
import { parseDuration } from "../../core/duration.ts";
import { ScenarioError } from "../../core/errors.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";

export const flash: StepImpl<StepParams<"flash">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  if (!board.flash) throw new ScenarioError(`board "${p.board}" has no flash: in the rig`, ctx.step.pos);
  if (!existsSync(p.image)) throw new ScenarioError(`image not found: ${p.image}`, ctx.step.pos);
  ctx.acted(p.board);
  await board.flash.program(
    p.image,
    (fraction) => ctx.progress(`flashing ${Math.round(fraction * 100)}%`, fraction, p.board),
    ctx.signal,
  );
  return { detail: basename(p.image) };
};

export const power: StepImpl<StepParams<"power">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  if (!board.power) throw new ScenarioError(`board "${p.board}" has no power: control in the rig`, ctx.step.pos);
  ctx.acted(p.board);
  if (p.action === "on") await board.power.on(ctx.signal);
  else if (p.action === "off") await board.power.off(ctx.signal);
  else await board.power.cycle(p.off !== undefined ? parseDuration(p.off) : 1000, ctx.signal);
};

export const reset: StepImpl<StepParams<"reset">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  if (!board.reset) throw new ScenarioError(`board "${p.board}" has no reset: in the rig`, ctx.step.pos);
  ctx.acted(p.board);
  await board.reset.reset(ctx.signal);
};
