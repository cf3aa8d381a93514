// The vendor side of a fleet rollout in one go: the model, the fleet's serials added and enabled
// for activation, and one deployment of an artifact to all of them. Thousands of serials: added
// and enabled in batches (the reference server's enable=true); serials that were there already,
// or a server without that, are enabled a few at a time (one signed call each).
import { OtaHttpError } from "../ota/http.ts";
import type { DeploymentResult, VendorClient } from "../ota/vendor-client.ts";

const ADD_BATCH = 500;
const ENABLE_CONCURRENCY = 8;

/**
 * Creates the model when it is missing, requiring activation (so a device must show its own CIK:
 * a wrong one is refused at the check); returns its ota-backend firmware id.
 */
export async function ensureModel(vendor: VendorClient, model: string, requireActivation = true): Promise<number> {
  try {
    await vendor.createModel(model, { requireActivation });
  } catch (err) {
    if (!(err instanceof OtaHttpError && err.status === 409)) throw err;
    await vendor.setRequireActivation(model, requireActivation);
  }
  return (await vendor.model(model)).id;
}

export async function registerSerials(vendor: VendorClient, model: string, serials: string[], onProgress?: (done: number) => void): Promise<void> {
  const toEnable: string[] = [];
  for (let i = 0; i < serials.length; i += ADD_BATCH) {
    const batch = serials.slice(i, i + ADD_BATCH);
    try {
      await vendor.addSerials(model, batch, { enable: true });
      // A server that ignores enable=true (someone else's) left them registered: enable them one by one.
      if ((await vendor.serialStatus(model, batch[0]!)) === "registered") toEnable.push(...batch);
    } catch (err) {
      if (!(err instanceof OtaHttpError && err.status === 409)) throw err;
      // some were there already (another runner's slice, a rerun): one by one, keeping the ones that are
      for (const sn of batch) {
        await vendor.addSerials(model, [sn]).catch((e: unknown) => {
          if (!(e instanceof OtaHttpError && e.status === 409)) throw e;
        });
      }
      toEnable.push(...batch);
    }
    onProgress?.(Math.min(i + ADD_BATCH, serials.length));
  }
  // Only serials still waiting: enabling an activated one again would void its CIK under the device.
  let next = 0;
  const worker = async () => {
    while (next < toEnable.length) {
      const sn = toEnable[next++]!;
      if ((await vendor.serialStatus(model, sn)) === "registered") await vendor.enableSerial(model, sn);
    }
  };
  await Promise.all(Array.from({ length: ENABLE_CONCURRENCY }, worker));
}

/** Registers the serials, then deploys the artifact to all of them in one deployment. */
export async function rollOut(vendor: VendorClient, model: string, serials: string[], artifactUuid: string, onProgress?: (done: number) => void): Promise<DeploymentResult> {
  await registerSerials(vendor, model, serials, onProgress);
  return vendor.createDeployment({ device_sn: serials, artifact_uuid: artifactUuid });
}
