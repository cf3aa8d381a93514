// Device status reports (DESIGN §4 "Device status"): the device tells the server where it is in
// an update; success (the new image confirmed) and failure settle the matching deployments. A
// trial boot (booted, not yet confirmed) is still in progress, as Mender and hawkBit see it.
import type { App } from "../context.ts";
import type { DeploymentStatus, DeviceRow } from "../db.ts";
import { readJsonObject } from "../http/body.ts";
import { HttpError, sendEmpty } from "../http/errors.ts";
import { route, type Ctx, type Route } from "../http/router.ts";
import { checkSharedSecret, cikDevice, deviceAuth, invalidAuth } from "./device-auth.ts";

export const DEVICE_STATES = ["downloading", "installing", "rebooting", "trial", "success", "failure"] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

const DEPLOYMENT_STATUS: Record<DeviceState, DeploymentStatus> = {
  downloading: "processing",
  installing: "processing",
  rebooting: "processing",
  trial: "processing",
  success: "success",
  failure: "failed",
};

export function statusRoutes(app: App): Route[] {
  return [
    route("POST", "/v1/status", "backend", async (ctx) => {
      checkSharedSecret(app, ctx);
      const { device } = deviceAuth(app, ctx);
      // A provisioned device's reports settle deployments: only the device itself (its CIK) may.
      if (device.prov_status !== null && cikDevice(app, header(ctx, "x-exosite-cik"), device.model_id, device.sn)?.id !== device.id) {
        throw invalidAuth("status report for a provisioned device without its CIK");
      }
      await record(app, ctx, device);
    }),
    route("POST", "/provision/status", "text", async (ctx) => {
      const device = cikDevice(app, header(ctx, "x-exosite-cik"));
      if (!device) throw invalidAuth("missing or invalid X-Exosite-CIK");
      ctx.logFields.device_id = device.sn;
      await record(app, ctx, device);
    }),
  ];
}

function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function record(app: App, ctx: Ctx, device: DeviceRow): Promise<void> {
  const body = await readJsonObject(ctx.req);
  const hash = typeof body.hash === "string" ? body.hash.trim().toLowerCase() : "";
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new HttpError(400, "BAD_REQUEST", "hash must be a sha256 (64 hex digits)");
  const state = body.state;
  if (typeof state !== "string" || !(DEVICE_STATES as readonly string[]).includes(state)) {
    throw new HttpError(400, "BAD_REQUEST", `state must be one of ${DEVICE_STATES.join(", ")}`);
  }
  // What the device runs as it reports (optional): the server's record of the device follows it.
  const running = typeof body.running === "string" && body.running.trim() !== "" ? body.running.trim().toLowerCase() : undefined;
  if (running !== undefined && !/^[0-9a-f]{64}$/.test(running)) throw new HttpError(400, "BAD_REQUEST", "running must be a sha256 (64 hex digits)");
  const message = body.message === undefined || body.message === null ? null : String(body.message).slice(0, 2000);
  app.store.db.transaction(() => {
    app.store.recordDeviceState(device.id, { state: state as DeviceState, hash, running, message }, ctx.now);
    app.store.updateDeploymentStatus(device.id, hash, DEPLOYMENT_STATUS[state as DeviceState], message, ctx.now);
  })();
  ctx.logFields.state = state;
  sendEmpty(ctx.res, 204);
}
