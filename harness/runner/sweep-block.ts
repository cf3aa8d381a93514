// The `sweep` block: its steps run once per point, each point from a known state (its setup),
// with ${sweep.point} and ${sweep.index} set. A power cut armed by the point's steps ends them;
// once power returns the board's boot is classified (harness/sweep/classify.ts). A bricked board
// is restored through the rig's flasher before the next point. Every point runs unless
// `stop_on: bricked`; the sweep fails naming each point whose outcome is not allowed.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseDuration } from "../core/duration.ts";
import { InfraError, ScenarioError, TestFailure } from "../core/errors.ts";
import type { SweepAt, SweepOutcome } from "../core/events.ts";
import type { SweepParams } from "../scenario/steps.ts";
import type { Step } from "../scenario/types.ts";
import { watchBoot, type BootRules, type Classification } from "../sweep/classify.ts";
import { landingText } from "../sweep/landing.ts";
import { sweepPoints, type PointsSpec } from "../sweep/points.ts";
import type { BoardHandle } from "./board-handle.ts";
import type { RunContext, StepOutcome } from "./context.ts";
import { anyOf, compilePattern } from "./patterns.ts";
import { stepCause } from "./step-failed.ts";
import { interpolateStep } from "./variables.ts";

export type RunStepsFn = (ctx: RunContext, steps: Step[], prefix: string) => Promise<void>;

/** The abort reason of a point's steps when its power cut fired: they stop, nothing failed. */
export const CUT_STOP = "stopped: the sweep's power cut fired";

const DEFAULT_WINDOW_MS = 20_000;

interface PointResult {
  index: number;
  at: SweepAt;
  outcome: SweepOutcome;
  detail: string;
}

export async function runSweep(ctx: RunContext, step: Step, path: string, runSteps: RunStepsFn): Promise<StepOutcome> {
  const p = interpolateStep(ctx, step) as SweepParams;
  const handle = ctx.boards.get(p.board);
  if (!handle) throw new ScenarioError(`unknown board "${p.board}"`, step.pos);
  const name = p.name ?? `sweep ${path}`;
  const points = sweepPoints(p.points as PointsSpec);
  const allow: SweepOutcome[] = p.allow ?? ["old", "new"];
  const windowMs = p.window !== undefined ? parseDuration(p.window) : DEFAULT_WINDOW_MS;
  const rules = bootRules(ctx, handle, p, step);
  const [setup = [], body = []] = step.children ?? [];
  ctx.bus.emit({ type: "sweep.start", path, name, board: p.board, points, allow });

  const results: PointResult[] = [];
  let bricked = false;
  for (const [i, point] of points.entries()) {
    const index = i + 1;
    const start = ctx.bus.now();
    if (bricked) await recover(ctx, handle, p.base, index);
    ctx.outputs.set("sweep.point", String(point));
    ctx.outputs.set("sweep.index", String(index));
    ctx.bus.emit({ type: "progress", path, board: p.board, message: `${name}: point ${index} of ${points.length} (${point})`, fraction: i / points.length });
    await runSteps(ctx, setup, `${path}.${index}.setup.`);
    const result = { index, ...(await runPoint(ctx, body, `${path}.${index}.`, handle, rules, windowMs, runSteps)) };
    results.push(result);
    const failed = !allow.includes(result.outcome);
    ctx.bus.emit({ type: "sweep.point", path, name, board: p.board, point, ...result, start, failed });
    ctx.bus.emit({ type: "log", level: failed ? "warn" : "info", source: `sweep ${path}`, message: `point ${index} (${point}): ${result.outcome}: ${result.detail}` });
    bricked = result.outcome === "bricked";
    if (bricked && p.stop_on === "bricked") break;
  }
  ctx.outputs.delete("sweep.point");
  ctx.outputs.delete("sweep.index");

  const counts = (["old", "new", "bricked", "other"] as const).map((o) => [o, results.filter((r) => r.outcome === o).length] as const).filter(([, n]) => n > 0);
  const summary = `${results.length} points: ${counts.map(([o, n]) => `${n} ${o}`).join(", ")}`;
  const broke = results.filter((r) => !allow.includes(r.outcome));
  if (broke.length > 0) {
    const list = broke.map((r) => `point ${r.index} (${landingText(r.at)}): ${r.outcome}`).join("; ");
    throw new TestFailure(`${name}: ${broke.length} of ${results.length} points broke allow [${allow.join(", ")}]: ${list}`, { consoleTail: handle.board.console.tail(20) });
  }
  return { detail: `${name}: ${summary}` };
}

/** One point's steps: until they end, or until their power cut fires and the board boots again. */
async function runPoint(
  ctx: RunContext,
  body: Step[],
  prefix: string,
  handle: BoardHandle,
  rules: BootRules,
  windowMs: number,
  runSteps: RunStepsFn,
): Promise<Omit<PointResult, "index">> {
  const abort = new AbortController();
  const onRunAbort = () => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onRunAbort, { once: true });
  const deferred: RunContext["deferred"] = [];
  let cut: Promise<SweepAt> | undefined;
  let boot: ReturnType<typeof watchBoot> | undefined;
  const board = handle.spec.name;
  const pointCtx: RunContext = {
    ...ctx,
    signal: abort.signal,
    deferred,
    sweepPoint: {
      onCut(done) {
        if (cut) return;
        cut = done;
        boot = watchBoot(handle.board.console, rules);
        ctx.fatal?.quiet(board, true); // a crash after the cut is the point's outcome, not the run's failure
        abort.abort(CUT_STOP);
      },
    },
  };
  let stepsError: unknown;
  try {
    await runSteps(pointCtx, body, prefix);
  } catch (err) {
    stepsError = err;
  } finally {
    ctx.signal.removeEventListener("abort", onRunAbort);
  }
  try {
    if (!cut || !boot) {
      // The steps ended (or failed) before the cut fired: nothing to classify.
      for (const fn of deferred.reverse()) await fn();
      if (stepsError !== undefined && !(stepsError instanceof TestFailure || stepCause(stepsError) instanceof TestFailure)) throw stepsError;
      const why = stepsError !== undefined ? `the steps failed before the cut: ${(stepCause(stepsError) as Error).message}` : "the cut never fired: the point's steps ended first";
      return { at: { trigger: "line", not_reached: true }, outcome: "other", detail: why };
    }
    const at = await cut; // power back on (an InfraError when the relay failed)
    boot.powerReturned();
    const verdict: Classification = await boot.outcome(windowMs, ctx.signal);
    // Interrupted while the board booted: no verdict (the window did not run out).
    if (ctx.signal.aborted) throw new InfraError(typeof ctx.signal.reason === "string" ? ctx.signal.reason : "interrupted");
    for (const fn of deferred.reverse()) await fn();
    return { at, ...verdict };
  } finally {
    boot?.stop();
    ctx.fatal?.quiet(board, false);
  }
}

/** A bricked board is flashed with the base image before the next point; failing that is the bench's fault. */
async function recover(ctx: RunContext, handle: BoardHandle, image: string, index: number): Promise<void> {
  const flash = handle.board.flash;
  const board = handle.spec.name;
  if (!flash) throw new InfraError(`sweep: board ${board} is bricked and has no flasher to restore it with before point ${index}`);
  ctx.bus.emit({ type: "log", level: "info", source: `sweep`, message: `restoring ${board} with ${basename(image)} through the rig's flasher before point ${index}` });
  try {
    await flash.program(image, undefined, ctx.signal);
  } catch (err) {
    throw new InfraError(`sweep: restoring the bricked ${board} before point ${index} failed: ${(err as Error).message}`, { cause: err });
  }
}

function bootRules(ctx: RunContext, handle: BoardHandle, p: SweepParams, step: Step): BootRules {
  const booted = handle.profile.patterns.booted;
  if (booted === undefined) throw new ScenarioError(`the profile of board ${p.board} has no patterns.booted: a sweep classifies each point by the boot line`, step.pos);
  const fatal = [...handle.profile.fatal, ...(handle.spec.fatal ?? []), ...ctx.scenario.fatal];
  return {
    booted: compilePattern(booted, step.pos),
    ...(fatal.length ? { fatal: anyOf(fatal) } : {}),
    ...(handle.profile.patterns.boot_failed !== undefined ? { bootFailed: compilePattern(handle.profile.patterns.boot_failed, step.pos) } : {}),
    base: imageHash(p.base, "base", step),
    target: imageHash(p.target, "target", step),
  };
}

function imageHash(file: string, what: string, step: Step): string {
  try {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch (err) {
    throw new ScenarioError(`sweep ${what}: cannot read the image ${file}: ${(err as Error).message}`, step.pos);
  }
}
