// fault.*: break things on purpose, at the moment a scenario chooses.
import { setTimeout as sleep } from "node:timers/promises";
import { parseDuration } from "../../core/duration.ts";
import { InfraError, ScenarioError, TestFailure } from "../../core/errors.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";
import { compilePattern } from "../patterns.ts";

/**
 * Arms a one-shot watcher on the board's console: the moment a line matches `when`, power goes
 * off (a virtual board dies wherever it is, as a real one would), stays off for `off`, then
 * comes back. The step itself returns at once unless `wait: true`.
 */
export const powerCut: StepImpl<StepParams<"fault.power_cut">> = async (ctx, p) => {
  const { board } = ctx.handle(p.board);
  const power = board.power;
  if (!power) throw new ScenarioError(`board "${p.board}" has no power control in the rig: a power cut needs one`, ctx.step.pos);
  const when = compilePattern(p.when, ctx.step.pos);
  const offMs = p.off !== undefined ? parseDuration(p.off) : 1000;
  let fired!: (line: string) => void;
  const cut = new Promise<string>((resolve) => (fired = resolve));
  let switched: Promise<void> | undefined;
  const stop = board.console.onLine((line) => {
    if (line.cut || !when.test(line.text)) return; // a fragment cut by a gap is no whole line
    stop();
    // The cut acts on the board: what it printed before is from the boot the cut ended.
    ctx.windows.acted(p.board, board.console.mark());
    ctx.bus.emit({ type: "log", level: "warn", source: `fault ${ctx.path}`, message: `power cut on ${p.board} at "${line.text}" (off ${offMs}ms)` });
    fired(line.text);
    // A relay that fails here is the bench's fault, not the device's: the run fails as an
    // infrastructure error at the next step (or in this one, with `wait: true`).
    const path = ctx.path;
    switched = power.cycle(offMs).catch((err: unknown) => {
      const failure = new InfraError(`fault.power_cut (step ${path}) on ${p.board}: switching the power failed: ${(err as Error).message ?? String(err)}`, {
        cause: err,
      });
      ctx.bus.emit({ type: "log", level: "error", source: `fault ${path}`, message: failure.message });
      ctx.background.failure ??= failure;
      throw failure;
    });
    switched.catch(() => {});
  });
  ctx.deferred.push(stop);
  if (!p.wait) return { detail: `armed: cut ${p.board} when /${p.when}/` };
  const withinMs = p.within !== undefined ? parseDuration(p.within) : ctx.timeoutMs;
  const line = await Promise.race([cut, sleep(withinMs, undefined, { signal: ctx.signal }).then(() => undefined)]);
  if (line === undefined) {
    stop();
    throw new TestFailure(`power cut on ${p.board}: /${p.when}/ did not appear within ${withinMs / 1000}s`, {
      consoleTail: board.console.tail(20),
    });
  }
  await switched;
  return { detail: `cut at "${line}"` };
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
