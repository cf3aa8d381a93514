// assert.deployment and assert.device: verdicts on what the server records, polled until they
// hold or `within` runs out (devices report status asynchronously). The words are the state
// machine's (harness/ota/states.ts); the other vocabulary's word for failing is read with a note.
import { setTimeout as sleep } from "node:timers/promises";
import { parseDuration } from "../../core/duration.ts";
import { ScenarioError, TestFailure } from "../../core/errors.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepContext, StepImpl } from "../context.ts";
import { DEPLOYMENT_STATUS_ALIASES, DEVICE_STATE_ALIASES } from "../../ota/states.ts";
import { expectedHash } from "./assert-steps.ts";
import { vendorClient } from "./vendor-steps.ts";

const POLL_MS = 200;

/** The word the server uses for `word` (an alias from the other vocabulary is read, with a did-you-mean in the log). */
function ownWord<W extends string>(ctx: StepContext, key: string, word: W, aliases: Record<string, string>): W {
  const own = aliases[word] as W | undefined;
  if (own === undefined) return word;
  ctx.bus.emit({ type: "log", level: "warn", source: `step ${ctx.path}`, message: `${ctx.step.name} ${key}: "${word}" read as "${own}" (${ctx.step.name} says ${own}), did you mean "${own}"?` });
  return own;
}

async function pollUntil<T>(ctx: StepContext, withinMs: number, read: () => Promise<T>, holds: (value: T) => boolean): Promise<{ ok: boolean; last: T }> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const last = await read();
    if (holds(last)) return { ok: true, last };
    if (Date.now() >= deadline) return { ok: false, last };
    await sleep(POLL_MS, undefined, { signal: ctx.signal });
  }
}

export const deployment: StepImpl<StepParams<"assert.deployment">> = async (ctx, p) => {
  const id = ctx.deployments.get(p.artifact);
  if (!id) throw new ScenarioError(`no deployment of "${p.artifact}" in this run: deploy it first with vendor.deploy`, ctx.step.pos);
  const devices = [...(p.device !== undefined ? [p.device] : []), ...(p.devices ?? [])];
  if (devices.length === 0) throw new ScenarioError("assert.deployment needs device: or devices:", ctx.step.pos);
  const vendor = vendorClient(ctx);
  const withinMs = p.within !== undefined ? parseDuration(p.within) : Math.min(ctx.timeoutMs, 10_000);
  const want = ownWord(ctx, "status", p.status, DEPLOYMENT_STATUS_ALIASES);
  const statuses = async () => {
    const rows = await vendor.deploymentStatus(id, "all");
    return devices.map((sn) => ({ sn, status: rows.find((d) => d.device_sn === sn)?.deployment_status }));
  };
  const { ok, last } = await pollUntil(ctx, withinMs, statuses, (all) => all.every((d) => d.status === want));
  if (!ok) {
    const off = last.filter((d) => d.status !== want).map((d) => `${d.sn}: ${d.status ?? "(not in the deployment)"}`);
    throw new TestFailure(`deployment ${id} of ${p.artifact}: expected ${want} within ${withinMs / 1000}s, but ${off.join(", ")}`);
  }
  return { detail: `${devices.length === 1 ? devices[0] : `${devices.length} devices`}: ${want}` };
};

export const device: StepImpl<StepParams<"assert.device">> = async (ctx, p) => {
  const vendor = vendorClient(ctx);
  const withinMs = p.within !== undefined ? parseDuration(p.within) : Math.min(ctx.timeoutMs, 10_000);
  // hash: like assert.hash's equals, a firmware file or a digest: the image the server says the device runs
  const expected = p.hash !== undefined ? expectedHash(p.hash, ctx.step.pos, "assert.device hash") : undefined;
  const wantHash = expected?.hash;
  const state = p.state !== undefined ? ownWord(ctx, "state", p.state, DEVICE_STATE_ALIASES) : undefined;
  const read = async () => (await vendor.device(p.device))[0];
  const { ok, last } = await pollUntil(ctx, withinMs, read, (d) =>
    Boolean(d && (!state || d.state === state) && (!p.status || d.status === p.status) && (!wantHash || d.current_hash?.toLowerCase() === wantHash)),
  );
  if (!ok) {
    const seen = last ? `state=${last.state} status=${last.status} hash=${last.current_hash}` : "unknown to the server";
    const wanted = [state && `state=${state}`, p.status && `status=${p.status}`, expected && `hash=${wantHash} (${expected.what})`].filter(Boolean).join(" ");
    throw new TestFailure(`device ${p.device} on the server: ${seen}; expected ${wanted} within ${withinMs / 1000}s`);
  }
  return { detail: `${p.device}: state=${last?.state} status=${last?.status}` };
};
