// Who is calling an ota-backend endpoint: the firmware owner (id + key) or a device (id +
// device id, plus a CIK where the model requires activation). All failures are one answer,
// 401 INVALID_AUTH "invalid credentials", so a caller cannot probe which part was wrong; the
// reason goes to the server's log.
import { timingSafeEqual } from "node:crypto";
import type { App } from "../context.ts";
import type { DeviceRow, ModelRow } from "../db.ts";
import { HttpError } from "../http/errors.ts";
import type { Ctx } from "../http/router.ts";

export function invalidAuth(reason: string): HttpError {
  return new HttpError(401, "INVALID_AUTH", "invalid credentials", {}, reason);
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `x-ota-secret` on every ota-backend endpoint when OTA_SECRET is set. */
export function checkSharedSecret(app: App, ctx: Ctx): void {
  const secret = app.config.secret;
  if (!secret) return;
  const given = header(ctx, "x-ota-secret");
  if (given === undefined || !sameSecret(given, secret)) throw invalidAuth("missing or wrong x-ota-secret");
}

function modelFromHeader(app: App, ctx: Ctx): ModelRow {
  const raw = header(ctx, "x-ota-firmware-id");
  if (!raw || !/^\d+$/.test(raw.trim())) throw invalidAuth("missing or invalid x-ota-firmware-id");
  const model = app.store.model(Number(raw.trim()));
  if (!model) throw invalidAuth("unknown firmware");
  return model;
}

/** The firmware owner: `x-ota-firmware-id` + `x-ota-firmware-key`. */
export function ownerAuth(app: App, ctx: Ctx): ModelRow {
  const model = modelFromHeader(app, ctx);
  const key = header(ctx, "x-ota-firmware-key");
  if (key === undefined || !sameSecret(key, model.key)) throw invalidAuth("wrong x-ota-firmware-key");
  return model;
}

/** The device a CIK belongs to, when it is an activated device of this model with this serial. */
export function cikDevice(app: App, cik: string | undefined, modelId?: number, sn?: string): DeviceRow | undefined {
  if (!cik || !/^[0-9a-f]{40}$/i.test(cik.trim())) return undefined;
  const d = app.store.deviceByCik(cik.trim().toLowerCase());
  if (!d || d.prov_status !== "activated") return undefined;
  if (modelId !== undefined && d.model_id !== modelId) return undefined;
  if (sn !== undefined && d.sn !== sn) return undefined;
  return d;
}

/**
 * A device: `x-ota-firmware-id` + `x-ota-device-id`, let through by the firewall or by a valid
 * CIK of its own; a model with require_activation always wants the CIK. Records the contact.
 */
export function deviceAuth(app: App, ctx: Ctx): { model: ModelRow; device: DeviceRow } {
  const model = modelFromHeader(app, ctx);
  const sn = header(ctx, "x-ota-device-id")?.trim();
  if (!sn) throw invalidAuth("missing x-ota-device-id");
  const withCik = cikDevice(app, header(ctx, "x-exosite-cik"), model.id, sn) !== undefined;
  if (model.require_activation && !withCik) throw invalidAuth("this model requires an activated device (X-Exosite-CIK)");
  if (!withCik && !app.store.isAllowed(model.id, sn)) throw invalidAuth("device not allowed by the firewall");
  ctx.logFields.firmware_id = model.id;
  ctx.logFields.device_id = sn;
  return { model, device: app.store.touchDevice(model.id, sn, ctx.now) };
}

/**
 * Whether what this request says about the device may stand as the device's own word: always
 * for a device without a CIK, only with that CIK once it is activated (a caller that merely
 * knows the serial must not overwrite what the device reported with its CIK).
 */
export function speaksForDevice(app: App, ctx: Ctx, device: DeviceRow): boolean {
  if (device.prov_status !== "activated") return true;
  return cikDevice(app, header(ctx, "x-exosite-cik"), device.model_id, device.sn)?.id === device.id;
}
