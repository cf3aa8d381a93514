// fleet.deploy: the vendor side of a rollout to the fleet in one step: this runner's serials
// (a generated range) added to the fleet's model, enabled for activation, and one deployment.
import { ScenarioError, TestFailure } from "../../core/errors.ts";
import { rollOut } from "../../fleet/register.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";
import { artifactUuid, vendorClient } from "./vendor-steps.ts";

export const deploy: StepImpl<StepParams<"fleet.deploy">> = async (ctx, p) => {
  const running = ctx.fleet.running;
  if (!running) throw new ScenarioError("fleet.deploy needs a running fleet: start one with fleet.start first", ctx.step.pos);
  const uuid = artifactUuid(ctx, p.artifact);
  const serials = running.fleet.serials;
  const result = await rollOut(vendorClient(ctx), running.model, serials, uuid, (done) =>
    ctx.progress(`registered ${done} of ${serials.length} serials`, done / serials.length),
  );
  // Its own name: the boards' deployment of the same artifact stays the one assert.deployment reads.
  ctx.outputs.set(`${p.artifact}.fleet_deployment`, result.deployment_id);
  if (result.deployment_rejected.length) {
    const first = result.deployment_rejected.slice(0, 3).map((r) => `${r.device_sn}: ${r.message}`);
    throw new TestFailure(`deployment ${result.deployment_id}: ${result.deployment_rejected.length} of ${serials.length} serials rejected (${first.join("; ")})`);
  }
  return { detail: `${serials.length} serials ${serials[0]}…${serials.at(-1)} registered in ${running.model}; deployment ${result.deployment_id}` };
};
