// device.*: a profile command and its result patterns, with a verdict.
import { parseDuration } from "../../core/duration.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { ProfilePattern } from "../../scenario/types.ts";
import type { StepContext, StepImpl } from "../context.ts";
import { requireOutcome, runDeviceAction } from "../device-actions.ts";

function within(ctx: StepContext, value: string | number | undefined): number {
  return value !== undefined ? parseDuration(value) : ctx.timeoutMs;
}

function remember(ctx: StepContext, board: string, groups: Record<string, string>): void {
  for (const [name, value] of Object.entries(groups)) ctx.outputs.set(`${board}.${name}`, value);
}

/** A device step whose success is one pattern, or `error` when the scenario expects a failure. */
function simpleAction(
  action: "activate" | "download" | "install" | "confirm" | "reboot",
  success: ProfilePattern,
): StepImpl<{ board: string; within?: string | number; expect?: string }> {
  return async (ctx, p) => {
    const wanted: ProfilePattern[] = p.expect === "error" ? ["error"] : [success];
    const result = await runDeviceAction(ctx, p.board, action, [success], within(ctx, p.within));
    requireOutcome(result, wanted, `device.${action} on ${p.board}`, ctx.handle(p.board).board.console.tail(20));
    remember(ctx, p.board, result.groups);
    return { detail: result.line };
  };
}

export const activate = simpleAction("activate", "activated");
export const download = simpleAction("download", "download_done");
export const install = simpleAction("install", "install_done");
export const confirm = simpleAction("confirm", "confirmed");
export const reboot = simpleAction("reboot", "booted");

const CHECK_OUTCOMES: Record<string, ProfilePattern[]> = {
  "update-available": ["update_available"],
  "up-to-date": ["up_to_date"],
  error: ["error"],
};

export const check: StepImpl<StepParams<"device.check">> = async (ctx, p) => {
  const result = await runDeviceAction(ctx, p.board, "check", ["update_available", "up_to_date"], within(ctx, p.within));
  const wanted = p.expect ? CHECK_OUTCOMES[p.expect]! : (["update_available", "up_to_date"] as ProfilePattern[]);
  requireOutcome(result, wanted, `device.check on ${p.board}`, ctx.handle(p.board).board.console.tail(20));
  remember(ctx, p.board, result.groups);
  return { detail: result.line };
};

export const configure: StepImpl<StepParams<"device.configure">> = async (ctx, p) => {
  const keys = Object.keys(p.settings);
  for (const [key, value] of Object.entries(p.settings)) {
    const result = await runDeviceAction(ctx, p.board, "configure", ["configured"], within(ctx, undefined), {
      key,
      value: String(value),
    });
    requireOutcome(result, ["configured"], `device.configure ${key} on ${p.board}`, ctx.handle(p.board).board.console.tail(20));
  }
  return { detail: keys.join(", ") };
};
