// Provisioning (seed 002): vendor management (signed) and the device side (activate with a
// serial number for a CIK; list, describe and fetch content with that CIK).
import { randomBytes } from "node:crypto";
import type { App } from "../context.ts";
import type { ContentRow, DeviceRow, ModelRow } from "../db.ts";
import { UploadTooLarge } from "../blobs.ts";
import { allowSlowBody } from "../http/body-idle.ts";
import { first, isTrue, readFields, type Fields } from "../http/body.ts";
import { HttpError, sendEmpty, sendJson, sendText } from "../http/errors.ts";
import { route, type Ctx, type Route } from "../http/router.ts";
import { sendFile } from "../http/send-file.ts";
import { commit, uploadIdle } from "./backend.ts";
import { cikDevice, invalidAuth } from "./device-auth.ts";
import { vendorAuth } from "./vendor-auth.ts";

export type SerialStatus = "registered" | "enabled" | "activated" | "expired" | "disabled";

export const NAME = /^[\w.\-:@]{1,128}$/; // model names, serial numbers, content ids

export function provisionRoutes(app: App): Route[] {
  const m = "/provision/manage/model";
  const c = "/provision/manage/content";
  return [
    route("GET", `${m}/`, "vendor", (ctx) => listModels(app, ctx)),
    route("POST", `${m}/`, "vendor", (ctx) => createModel(app, ctx)),
    route("GET", `${m}/:model`, "vendor", (ctx) => modelInfo(app, ctx)),
    route("POST", `${m}/:model`, "vendor", (ctx) => updateModel(app, ctx)),
    route("GET", `${m}/:model/`, "vendor", (ctx) => listSerials(app, ctx)),
    route("POST", `${m}/:model/`, "vendor", (ctx) => addSerials(app, ctx)),
    route("GET", `${m}/:model/:sn`, "vendor", (ctx) => serialInfo(app, ctx)),
    route("POST", `${m}/:model/:sn`, "vendor", (ctx) => enableOrDisable(app, ctx)),
    route("POST", `${c}/:model/`, "vendor", (ctx) => createContent(app, ctx)),
    route("POST", `${c}/:model/:id`, "vendor", (ctx) => uploadContent(app, ctx)),
    route("DELETE", `${c}/:model/:id`, "vendor", (ctx) => deleteContent(app, ctx)),
    route("POST", "/provision/activate", "text", (ctx) => activate(app, ctx)),
    route(["GET", "HEAD"], "/provision/download", "text", (ctx) => download(app, ctx)),
  ];
}

// ---- vendor side ------------------------------------------------------------------------

/** The vendor's own model; another vendor's is indistinguishable from a missing one. */
function ownModel(app: App, ctx: Ctx): { vendor: string; model: ModelRow } {
  const { vendor } = vendorAuth(app, ctx);
  const model = app.store.modelByName(vendor, ctx.params.model ?? "");
  if (!model) throw new HttpError(404, "E404-4", "no such model");
  ctx.logFields.model = model.name;
  return { vendor, model };
}

function ownSerial(app: App, model: ModelRow, sn: string | undefined): DeviceRow {
  const d = sn ? app.store.device(model.id, sn) : undefined;
  if (!d || d.prov_status === null) throw new HttpError(404, "E404-5", "no such serial number");
  return d;
}

/** What a vendor sees: `expired` is an enabled serial whose window has passed. */
export function serialStatus(app: App, d: DeviceRow, now: number): SerialStatus {
  if (d.prov_status === "enabled" && d.enabled_at !== null && now > d.enabled_at + app.config.activationWindowMs) return "expired";
  return d.prov_status ?? "registered";
}

function listModels(app: App, ctx: Ctx): void {
  const { vendor } = vendorAuth(app, ctx);
  sendJson(ctx.res, 200, app.store.modelsOfVendor(vendor).map((m) => m.name));
}

async function createModel(app: App, ctx: Ctx): Promise<void> {
  const { vendor } = vendorAuth(app, ctx);
  const fields = await readFields(ctx.req);
  const name = first(fields, "model")?.trim();
  if (!name || !NAME.test(name)) throw new HttpError(400, "E400-9", "model must be 1-128 characters of letters, digits and ._-:@");
  if (app.store.modelByName(vendor, name)) throw new HttpError(409, "E409-1", "model already exists");
  app.store.createModel(ctx.now, vendor, name, isTrue(first(fields, "require_activation")));
  ctx.logFields.model = name;
  sendEmpty(ctx.res, 205);
}

function modelInfo(app: App, ctx: Ctx): void {
  const { model } = ownModel(app, ctx);
  sendJson(ctx.res, 200, { model: model.name, id: model.id, key: model.key, require_activation: model.require_activation === 1 });
}

/** `require_activation=true|false` (not in the documents; lets a scenario switch it). */
async function updateModel(app: App, ctx: Ctx): Promise<void> {
  const { model } = ownModel(app, ctx);
  const value = first(await readFields(ctx.req), "require_activation");
  if (value === undefined) throw new HttpError(400, "E400-10", "nothing to change (require_activation=true|false)");
  app.store.setRequireActivation(model.id, isTrue(value));
  sendEmpty(ctx.res, 205);
}

function listSerials(app: App, ctx: Ctx): void {
  const { model } = ownModel(app, ctx);
  const rows = app.store.devicesOf(model.id).filter((d) => d.prov_status !== null);
  sendJson(
    ctx.res,
    200,
    rows.map((d) => ({ sn: d.sn, status: serialStatus(app, d, ctx.now) })),
  );
}

async function addSerials(app: App, ctx: Ctx): Promise<void> {
  const { model } = ownModel(app, ctx);
  const fields = await readFields(ctx.req);
  const sns = [...new Set(fields.get("sn")?.map((s) => s.trim()) ?? [])];
  if (sns.length === 0) throw new HttpError(400, "E400-11", "sn is required (repeat it to add several)");
  const bad = sns.find((s) => !NAME.test(s));
  if (bad !== undefined) throw new HttpError(400, "E400-12", `not a serial number: "${bad.slice(0, 40)}"`);
  if (!app.store.registerDevices(model.id, sns)) throw new HttpError(409, "E409-2", "serial number already present");
  // `enable=true` (not in the documents): also enable them for activation, so a fleet of
  // thousands is one call per batch instead of one per serial.
  if (isTrue(first(fields, "enable"))) app.store.enableDevices(model.id, sns, ctx.now);
  sendEmpty(ctx.res, 205);
}

function serialInfo(app: App, ctx: Ctx): void {
  const { model } = ownModel(app, ctx);
  const d = ownSerial(app, model, ctx.params.sn);
  sendJson(ctx.res, 200, { sn: d.sn, status: serialStatus(app, d, ctx.now) });
}

async function enableOrDisable(app: App, ctx: Ctx): Promise<void> {
  const { model } = ownModel(app, ctx);
  const d = ownSerial(app, model, ctx.params.sn);
  const fields = await readFields(ctx.req);
  if (isTrue(first(fields, "enable"))) app.store.enableDevice(d.id, ctx.now);
  else if (isTrue(first(fields, "disable"))) app.store.disableDevice(d.id);
  else throw new HttpError(400, "E400-13", "expected enable=true or disable=true");
  ctx.logFields.sn = d.sn;
  sendEmpty(ctx.res, 205);
}

function ownContent(app: App, model: ModelRow, id: string | undefined): ContentRow {
  const row = id ? app.store.content(model.id, id) : undefined;
  if (!row) throw new HttpError(404, "E404-6", "no such content");
  return row;
}

async function createContent(app: App, ctx: Ctx): Promise<void> {
  const { model } = ownModel(app, ctx);
  const fields: Fields = await readFields(ctx.req);
  const id = first(fields, "id")?.trim();
  if (!id || !NAME.test(id)) throw new HttpError(400, "E400-14", "id must be 1-128 characters of letters, digits and ._-:@");
  if (!app.store.createContent(model.id, id, first(fields, "meta") ?? "", ctx.now)) throw new HttpError(409, "E409-3", "content already exists");
  sendEmpty(ctx.res, 205);
}

async function uploadContent(app: App, ctx: Ctx): Promise<void> {
  const { model } = ownModel(app, ctx);
  const row = ownContent(app, model, ctx.params.id);
  const max = app.config.maxUploadBytes;
  if (Number(ctx.req.headers["content-length"] ?? "0") > max) throw new HttpError(413, "E413-1", `upload exceeds OTA_MAX_UPLOAD (${max} bytes)`);
  allowSlowBody(ctx.req, ctx.res, uploadIdle(app));
  const writer = await app.blobs.begin(max);
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) await writer.write(chunk);
    const digest = await commit(app, writer, ctx.now);
    const type = ctx.req.headers["content-type"]?.trim() || "application/octet-stream";
    app.store.setContentBody(model.id, row.id, type, digest.sha256, digest.size, ctx.now);
    sendEmpty(ctx.res, 205);
  } catch (err) {
    await writer.abort();
    if (err instanceof UploadTooLarge) throw new HttpError(413, "E413-1", `upload exceeds OTA_MAX_UPLOAD (${max} bytes)`);
    throw err;
  }
}

function deleteContent(app: App, ctx: Ctx): void {
  const { model } = ownModel(app, ctx);
  if (!app.store.deleteContent(model.id, ctx.params.id ?? "")) throw new HttpError(404, "E404-6", "no such content");
  sendEmpty(ctx.res, 205);
}

// ---- device side ------------------------------------------------------------------------

/** The model named by `vendor` + `model`; undefined when either is unknown. */
function deviceModel(app: App, vendor: string | undefined, model: string | undefined): ModelRow | undefined {
  return vendor && model ? app.store.modelByName(vendor, model) : undefined;
}

async function activate(app: App, ctx: Ctx): Promise<void> {
  // Failed activations count per client address: serial numbers cannot be tried at speed.
  app.limits.check("activation", ctx.req, ctx.now);
  const fields = await readFields(ctx.req);
  const model = deviceModel(app, first(fields, "vendor"), first(fields, "model"));
  const sn = first(fields, "sn")?.trim();
  const d = model && sn ? app.store.device(model.id, sn) : undefined;
  const refuse = (status: number, message: string, reason: string): HttpError => {
    app.limits.fail("activation", ctx.req, ctx.now);
    return new HttpError(status, status === 404 ? "NOT_FOUND" : "CONFLICT", message, {}, reason);
  };
  if (!d || d.prov_status === null) throw refuse(404, "unknown vendor, model or serial number", "unknown vendor, model or serial number");
  ctx.logFields.sn = d.sn;
  const status = serialStatus(app, d, ctx.now);
  // The body says what the seed documents say a 409 means, not which of it (the log does).
  if (status !== "enabled") throw refuse(409, "serial number is not enabled, its activation window has expired, or it is already activated", `serial number is ${status}`);
  const cik = randomBytes(20).toString("hex");
  app.store.activateDevice(d.id, cik, ctx.now);
  sendText(ctx.res, 200, cik);
}

async function download(app: App, ctx: Ctx): Promise<void> {
  const q = ctx.url.searchParams;
  const model = deviceModel(app, q.get("vendor") ?? undefined, q.get("model") ?? undefined);
  const cik = ctx.req.headers["x-exosite-cik"];
  const device = cikDevice(app, Array.isArray(cik) ? cik[0] : cik, model?.id);
  if (!model || !device) throw invalidAuth("missing or invalid X-Exosite-CIK for this vendor and model");
  ctx.logFields.sn = device.sn;
  const id = q.get("id");
  if (id === null) {
    const ids = app.store.contentsOf(model.id).filter((r) => r.sha256 !== null).map((r) => r.id);
    sendText(ctx.res, 200, ids.join("\r\n"), { "content-type": "text/csv; charset=utf-8" });
    return;
  }
  const row = app.store.content(model.id, id);
  if (!row || row.sha256 === null || row.size === null) throw new HttpError(404, "NOT_FOUND", "no such content");
  if (isTrue(q.get("info") ?? undefined)) {
    const line = [row.type ?? "", row.size, Math.floor(row.updated_at / 1000), row.meta].map(csvField).join(",");
    sendText(ctx.res, 200, line, { "content-type": "text/csv; charset=utf-8" });
    return;
  }
  await sendFile(ctx.req, ctx.res, { path: app.blobs.path(row.sha256), size: row.size, etag: row.sha256, contentType: row.type ?? undefined });
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
