// fleet.start: N simulated devices in the background, on the run's server, beside the boards:
// their serials registered and enabled in the model first, then the devices started. The fleet
// lives until fleet.stop or the end of the run (teardown stops it, Ctrl-C included).
import { parseDuration } from "../../core/duration.ts";
import { ScenarioError } from "../../core/errors.ts";
import { Fleet } from "../../fleet/fleet.ts";
import { probeDeviceApi } from "../../fleet/probe.ts";
import { ensureModel, registerSerials } from "../../fleet/register.ts";
import { fleetSpec, sliceSerials, type DeviceTiming, type FleetSpec } from "../../fleet/spec.ts";
import { parseBytes, parseRate } from "../../fleet/units.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { RunContext, StepImpl } from "../context.ts";
import { stopFleet } from "./fleet-stop.ts";
import { vendorClient } from "./vendor-steps.ts";

type Params = StepParams<"fleet.start">;

export const start: StepImpl<Params> = async (ctx, p) => {
  if (ctx.fleet.running) throw new ScenarioError("a fleet is already running: stop it with fleet.stop before starting another", ctx.step.pos);
  await probeDeviceApi(ctx.server.url);
  const vendor = vendorClient(ctx);
  const firmwareId = await ensureModel(vendor, p.model);
  const spec = specOf(p);
  // The serials exist on the server before any device wakes, as a factory registers them: a
  // device activating an unknown serial is a failed activation, which the server rate-limits
  // per address (and the whole fleet is one address).
  const serials = sliceSerials(spec);
  await registerSerials(vendor, p.model, serials, (done) => ctx.progress(`registered ${done} of ${serials.length} serials`, done / serials.length));
  const run: RunContext = ctx; // the fleet outlives this step
  const fleet = new Fleet({
    spec,
    target: {
      server: ctx.server.url,
      vendor: ctx.server.credentials.apiKey!.vendor,
      model: p.model,
      firmwareId: String(firmwareId),
      ...(ctx.server.credentials.secret ? { secret: ctx.server.credentials.secret } : {}),
    },
    clock: () => run.bus.now(),
    onSample: (sample) => run.bus.emit({ type: "fleet.sample", sample }),
  });
  ctx.fleet.running = { fleet, model: p.model };
  delete ctx.fleet.stopped;
  ctx.deferred.push(() => stopFleet(run));
  const first = fleet.serials[0];
  const last = fleet.serials.at(-1);
  const slice = spec.slice.total > 1 ? ` (slice ${spec.slice.index}/${spec.slice.total} of ${spec.count})` : "";
  return { detail: `${fleet.devices.length} simulated devices ${first}…${last}${slice} registered in ${p.model} and started` };
};

function specOf(p: Params): FleetSpec {
  const timing: Partial<DeviceTiming> = {};
  if (p.interval !== undefined) timing.intervalMs = parseDuration(p.interval);
  if (p.jitter !== undefined) timing.jitter = p.jitter;
  if (p.chunk !== undefined) timing.chunkBytes = parseBytes(p.chunk)!;
  if (p.rate !== undefined) timing.rateBytesPerS = parseRate(p.rate)!;
  if (p.offline_for !== undefined) timing.offlineForMs = parseDuration(p.offline_for);
  if (p.offline_within !== undefined) timing.offlineWithinMs = parseDuration(p.offline_within);
  if (p.resume_after !== undefined) timing.dropPauseMs = parseDuration(p.resume_after);
  if (p.trial !== undefined) timing.trialMs = parseDuration(p.trial);
  const [index, total] = (p.slice ?? "1/1").split("/").map(Number);
  const b = p.behaviours ?? {};
  return fleetSpec({
    count: p.count,
    ...(p.prefix !== undefined ? { prefix: p.prefix } : {}),
    slice: { index: index!, total: total! },
    behaviours: { drop: b.drop ?? 0, never_confirm: b.never_confirm ?? 0, offline: b.offline ?? 0, wrong_cik: b.wrong_cik ?? 0 },
    ...(p.connections !== undefined ? { connections: p.connections } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    timing,
  });
}
