// The ota-backend surface (seed 001, DESIGN §4): create, firewall, upload, check, download.
import type { App } from "../context.ts";
import { UploadTooLarge, type BlobWriter } from "../blobs.ts";
import { first, readFields } from "../http/body.ts";
import { HttpError, sendJson, sendEmpty } from "../http/errors.ts";
import { boundaryOf, readFirstFilePart } from "../http/multipart.ts";
import { route, type Ctx, type Handler, type Route } from "../http/router.ts";
import { sendFile } from "../http/send-file.ts";
import { checkSharedSecret, deviceAuth, ownerAuth, speaksForDevice } from "./device-auth.ts";

/** Slack for multipart framing on top of the file size limit. */
const MULTIPART_OVERHEAD = 1024 * 1024;

export function backendRoutes(app: App): Route[] {
  // Every ota-backend endpoint checks the shared secret first.
  const guarded = (h: Handler): Handler => (ctx) => {
    checkSharedSecret(app, ctx);
    return h(ctx);
  };
  return [
    route("POST", "/v1/create", "backend", guarded((ctx) => create(app, ctx))),
    route("POST", "/v1/firewall/:action", "backend", guarded((ctx) => firewall(app, ctx))),
    route("POST", "/v1/upload", "backend", guarded((ctx) => upload(app, ctx))),
    route(["POST", "GET"], "/v1/check/:hash?", "backend", guarded((ctx) => check(app, ctx))),
    route(["POST", "GET", "HEAD"], "/v1/download/:hash", "backend", guarded((ctx) => download(app, ctx))),
  ];
}

function create(app: App, ctx: Ctx): void {
  const model = app.store.createModel(ctx.now);
  ctx.logFields.firmware_id = model.id;
  sendJson(ctx.res, 200, { id: model.id, key: model.key });
}

async function firewall(app: App, ctx: Ctx): Promise<void> {
  const action = ctx.params.action;
  if (action !== "allow" && action !== "deny") throw new HttpError(404, "NOT_FOUND", `no firewall action "${action}"`);
  const model = ownerAuth(app, ctx);
  const deviceId = first(await readFields(ctx.req), "device_id")?.trim();
  if (!deviceId) throw new HttpError(400, "BAD_REQUEST", "device_id is required");
  // `deny all` removes the anyone-allowance; an explicit per-device rule always wins over `all`.
  if (deviceId === "all" && action === "deny") app.store.clearRule(model.id, "all");
  else app.store.setRule(model.id, deviceId, action);
  ctx.logFields.firmware_id = model.id;
  sendJson(ctx.res, 200, { device_id: deviceId, allowed: action === "allow" });
}

async function upload(app: App, ctx: Ctx): Promise<void> {
  const model = ownerAuth(app, ctx);
  const max = app.config.maxUploadBytes;
  const declared = Number(ctx.req.headers["content-length"] ?? "NaN");
  if (declared > max + MULTIPART_OVERHEAD) throw tooLarge(max);

  const writer = await app.blobs.begin(max);
  try {
    const boundary = boundaryOf(ctx.req.headers["content-type"]);
    if (boundary) {
      const file = await readFirstFilePart(ctx.req, boundary, (chunk) => writer.write(chunk));
      if (!file) throw new HttpError(400, "NO_FILE", "the multipart body has no file part");
    } else {
      // Lenient: a raw body is the file itself.
      for await (const chunk of ctx.req as AsyncIterable<Buffer>) await writer.write(chunk);
    }
    const digest = await commit(app, writer, ctx.now);
    app.store.recordUpload(model.id, digest.sha256, ctx.now);
    ctx.logFields.firmware_id = model.id;
    ctx.logFields.sha256 = digest.sha256;
    ctx.logFields.size = digest.size;
    sendJson(ctx.res, 200, { hash: digest.sha256 });
  } catch (err) {
    await writer.abort();
    if (err instanceof UploadTooLarge) throw tooLarge(max);
    throw err;
  }
}

/** Finishes a verified upload: bytes durable on disk, then recorded. */
export async function commit(app: App, writer: BlobWriter, now: number): Promise<{ sha256: string; md5: string; size: number }> {
  const digest = await writer.finish();
  await writer.commit();
  app.store.recordBlob(digest.sha256, digest.md5, digest.size, now);
  return digest;
}

export function tooLarge(max: number): HttpError {
  return new HttpError(413, "PAYLOAD_TOO_LARGE", `upload exceeds OTA_MAX_UPLOAD (${max} bytes)`);
}

function check(app: App, ctx: Ctx): void {
  const { model, device } = deviceAuth(app, ctx);
  const current = ctx.params.hash?.trim().toLowerCase();
  // The running image the check names is the device's word only when the device itself speaks.
  if (current && speaksForDevice(app, ctx, device)) app.store.recordCurrentHash(device, current);
  const target = app.store.deployedTarget(device.id) ?? app.store.newestUpload(model.id);
  if (!target) throw new HttpError(404, "FIRMWARE_NOT_UPLOADED", "no firmware uploaded for this device");
  if (current === target) {
    sendEmpty(ctx.res, 204);
    return;
  }
  sendJson(ctx.res, 200, { hash: target });
}

async function download(app: App, ctx: Ctx): Promise<void> {
  const { model, device } = deviceAuth(app, ctx);
  const hash = (ctx.params.hash ?? "").trim().toLowerCase();
  const available =
    /^[0-9a-f]{64}$/.test(hash) && (app.store.isUploadOf(model.id, hash) || app.store.isDeployedTo(device.id, hash));
  const blob = available ? app.store.blob(hash) : undefined;
  if (!blob) throw new HttpError(404, "FIRMWARE_NOT_AVAILABLE", "no such firmware for this device");
  ctx.logFields.sha256 = hash;
  await sendFile(ctx.req, ctx.res, { path: app.blobs.path(hash), size: blob.size, etag: hash });
}
