// fleet.deploy: a rollout to the fleet in one step: one deployment of the artifact to this
// runner's serials (the generated range fleet.start registered), not one step per device.
import { ScenarioError, TestFailure } from "../../core/errors.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";
import { artifactUuid, vendorClient } from "./vendor-steps.ts";

export const deploy: StepImpl<StepParams<"fleet.deploy">> = async (ctx, p) => {
  const running = ctx.fleet.running;
  if (!running) throw new ScenarioError("fleet.deploy needs a running fleet: start one with fleet.start first", ctx.step.pos);
  const uuid = artifactUuid(ctx, p.artifact);
  const serials = running.fleet.serials;
  const result = await vendorClient(ctx).createDeployment({ device_sn: serials, artifact_uuid: uuid });
  // Its own name: the boards' deployment of the same artifact stays the one assert.deployment reads.
  ctx.outputs.set(`${p.artifact}.fleet_deployment`, result.deployment_id);
  if (result.deployment_rejected.length) {
    const first = result.deployment_rejected.slice(0, 3).map((r) => `${r.device_sn}: ${r.message}`);
    throw new TestFailure(`deployment ${result.deployment_id}: ${result.deployment_rejected.length} of ${serials.length} serials rejected (${first.join("; ")})`);
  }
  return { detail: `deployment ${result.deployment_id} to ${serials.length} serials ${serials[0]}…${serials.at(-1)}` };
};
