// fault.*: break things on purpose, at the moment a scenario chooses.
import { setTimeout as sleep } from "node:timers/promises";
import { parseDuration } from "../../core/duration.ts";
import { InfraError, ScenarioError, TestFailure } from "../../core/errors.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";
import { compilePattern } from "../patterns.ts";
import { armCut, type CutTrigger } from "../../faults/cut-trigger.ts";
import { landingText } from "../../sweep/landing.ts";

/**
 * Arms a one-shot cut: at the nth console line matching `when` (or `after` a delay from it), or
 * right after the page holding byte offset `write` is written, power goes off (a virtual board
 * dies wherever it is, as a real one would), stays off for `off`, then comes back. The step
 * returns at once unless `wait: true`. Inside a sweep the point hears of the cut (ctx.sweepPoint).
 */
export const powerCut: StepImpl<StepParams<"fault.power_cut">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  const power = board.power;
  if (!power) throw new ScenarioError(`board "${p.board}" has no power control in the rig: a power cut needs one`, ctx.step.pos);
  if (p.write !== undefined && !board.writes) {
    throw new ScenarioError(`board "${p.board}" does not report its flash writes: cut it at a console line (when:) instead of write:`, ctx.step.pos);
  }
  const trigger: CutTrigger =
    p.write !== undefined
      ? { kind: "write", offset: Number(p.write), ...(p.area ? { area: p.area } : {}) }
      : { kind: "line", pattern: compilePattern(p.when!, ctx.step.pos), nth: Number(p.nth ?? 1), ...(p.after !== undefined ? { afterMs: parseDuration(p.after) } : {}) };
  const what = p.write !== undefined ? `after the page holding ${p.area ?? "write"} offset ${p.write}` : `${Number(p.nth ?? 1) > 1 ? `at match ${p.nth} of` : "at"} /${p.when}/${p.after !== undefined ? ` + ${p.after}` : ""}`;
  const offMs = p.off !== undefined ? parseDuration(p.off) : 1000;
  const armed = armCut(board, trigger);
  ctx.deferred.push(() => armed.stop());
  const path = ctx.path;
  const sweepPoint = ctx.sweepPoint;
  // The cut itself: a relay that fails here is the bench's fault, not the device's: the run fails
  // as an infrastructure error at the next step (or in this one, with `wait: true`).
  const switched = armed.fired.then(async () => {
    // The cut acts on the board: what it printed before is from the boot the cut ended.
    ctx.windows.acted(p.board, board.console.mark());
    try {
      await power.off();
      const at = armed.landing();
      armed.stop();
      ctx.bus.emit({ type: "log", level: "warn", source: `fault ${path}`, message: `power cut on ${p.board} ${at.trigger === "write" ? "after " : ""}${landingText(at)} (off ${offMs}ms)` });
      await sleep(offMs);
      await power.on();
      return at;
    } catch (err) {
      const failure = new InfraError(`fault.power_cut (step ${path}) on ${p.board}: switching the power failed: ${(err as Error).message ?? String(err)}`, { cause: err });
      ctx.bus.emit({ type: "log", level: "error", source: `fault ${path}`, message: failure.message });
      ctx.background.failure ??= failure;
      throw failure;
    }
  });
  switched.catch(() => {});
  void armed.fired.then(() => sweepPoint?.onCut(switched));
  if (!p.wait) return { detail: `armed: cut ${p.board} ${what}` };
  const withinMs = p.within !== undefined ? parseDuration(p.within) : ctx.timeoutMs;
  const fired = await Promise.race([armed.fired.then(() => true), sleep(withinMs, undefined, { signal: ctx.signal }).then(() => false)]);
  if (!fired) {
    armed.stop();
    throw new TestFailure(`power cut on ${p.board}: no cut ${what} within ${withinMs / 1000}s`, { consoleTail: board.console.tail(20) });
  }
  return { detail: `cut ${landingText(await switched)}` };
};

/** Injects a network fault into the board's proxy (the board must talk to ${boards.<b>.server_url}). */
export const network: StepImpl<StepParams<"fault.network">> = async (ctx, p) => {
  const proxy = ctx.proxies.get(p.board);
  if (!proxy) throw new ScenarioError(`board "${p.board}" has no network proxy`, ctx.step.pos);
  if (p.mode === "clear") {
    proxy.clear();
    return { detail: "network faults cleared" };
  }
  proxy.inject({
    mode: p.mode,
    ...(p.after_bytes !== undefined ? { afterBytes: p.after_bytes } : {}),
    ...(p.duration !== undefined ? { durationMs: parseDuration(p.duration) } : {}),
    ...(p.delay !== undefined ? { delayMs: parseDuration(p.delay) } : {}),
  });
  return { detail: `${p.mode}${p.after_bytes !== undefined ? ` after ${p.after_bytes} bytes` : ""}${p.duration !== undefined ? ` for ${p.duration}` : ""}` };
};
