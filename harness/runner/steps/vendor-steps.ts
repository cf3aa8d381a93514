// vendor.*: the signed vendor API (ALLXON-SIG1): models and serials for activation, the
// three-step artifact upload, deployments.
import { basename } from "node:path";
import { InfraError, ScenarioError, TestFailure } from "../../core/errors.ts";
import { OtaHttpError } from "../../ota/http.ts";
import { VendorClient } from "../../ota/vendor-client.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepContext, StepImpl } from "../context.ts";

export function vendorClient(ctx: StepContext): VendorClient {
  const key = ctx.server.credentials.apiKey;
  if (!key) {
    throw new InfraError(
      `vendor steps need an API key for the server at ${ctx.server.url}: set OTARIG_API_KEY=vendor:keyId:secret (server mode url)`,
    );
  }
  return new VendorClient({ baseUrl: ctx.server.url, keyId: key.keyId, secret: key.secret });
}

/** Runs a vendor call whose "already exists" answer (409) is as good as success. */
async function idempotent(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!(err instanceof OtaHttpError && err.status === 409)) throw err;
  }
}

export const register: StepImpl<StepParams<"vendor.register">> = async (ctx, p) => {
  const vendor = vendorClient(ctx);
  await idempotent(() => vendor.createModel(p.model, p.require_activation !== undefined ? { requireActivation: p.require_activation } : {}));
  if (p.require_activation !== undefined) await vendor.setRequireActivation(p.model, p.require_activation);
  for (const sn of p.devices) await idempotent(() => vendor.addSerials(p.model, [sn]));
  if (p.enable !== false) for (const sn of p.devices) await vendor.enableSerial(p.model, sn);
  const model = await vendor.model(p.model);
  ctx.outputs.set(`${p.model}.id`, String(model.id)); // the model's ota-backend firmware id; its key stays secret
  return { detail: `${p.devices.length} device(s) in ${p.model} (firmware id ${model.id})${p.enable !== false ? ", enabled" : ""}` };
};

export const enable: StepImpl<StepParams<"vendor.enable">> = async (ctx, p) => {
  const vendor = vendorClient(ctx);
  for (const sn of p.devices) await vendor.enableSerial(p.model, sn);
  return { detail: `${p.devices.join(", ")} enabled` };
};

export const disable: StepImpl<StepParams<"vendor.disable">> = async (ctx, p) => {
  const vendor = vendorClient(ctx);
  for (const sn of p.devices) await vendor.disableSerial(p.model, sn);
  return { detail: `${p.devices.join(", ")} disabled` };
};

export const upload: StepImpl<StepParams<"vendor.upload">> = async (ctx, p) => {
  const artifact = await vendorClient(ctx).uploadArtifact(p.file, p.name ?? basename(p.file), p.model);
  ctx.artifacts.set(p.as, artifact.artifactUuid);
  ctx.outputs.set(`${p.as}.uuid`, artifact.artifactUuid);
  ctx.outputs.set(`${p.as}.hash`, artifact.sha256);
  return { detail: `${artifact.name} → ${artifact.artifactUuid} (sha256 ${artifact.sha256.slice(0, 12)}…)` };
};

export const deploy: StepImpl<StepParams<"vendor.deploy">> = async (ctx, p) => {
  const uuid = artifactUuid(ctx, p.artifact);
  const result = await vendorClient(ctx).createDeployment({ device_sn: p.devices, artifact_uuid: uuid });
  ctx.deployments.set(p.artifact, result.deployment_id);
  ctx.outputs.set(`${p.artifact}.deployment`, result.deployment_id);
  const expected = new Set(p.expect_rejected ?? []);
  const unexpected = result.deployment_rejected.filter((r) => !expected.has(r.device_sn));
  const missing = [...expected].filter((sn) => !result.deployment_rejected.some((r) => r.device_sn === sn));
  if (unexpected.length || missing.length) {
    throw new TestFailure(
      `deployment ${result.deployment_id}: ` +
        [
          ...unexpected.map((r) => `${r.device_sn} rejected: ${r.message}`),
          ...missing.map((sn) => `${sn} was accepted, but the scenario expected it to be rejected`),
        ].join("; "),
    );
  }
  return { detail: `deployment ${result.deployment_id}: ${result.deployment_accepted.length} accepted, ${result.deployment_rejected.length} rejected` };
};

export function artifactUuid(ctx: StepContext, name: string): string {
  const uuid = ctx.artifacts.get(name);
  if (!uuid) throw new ScenarioError(`no artifact named "${name}": upload it first with vendor.upload { as: ${name} }`, ctx.step.pos);
  return uuid;
}
