// The signed vendor API (seeds 000, 003, 004): artifacts in three steps (record, pre-signed
// URL, PUT with Content-MD5), deployments and their per-device status.
import { createHmac, randomUUID } from "node:crypto";
import type { App } from "../context.ts";
import type { ArtifactRow, DeploymentStatus, DeviceRow, ModelRow } from "../db.ts";
import { UploadTooLarge } from "../blobs.ts";
import { allowSlowBody } from "../http/body-idle.ts";
import { readJsonObject } from "../http/body.ts";
import { HttpError, sendEmpty, sendJson } from "../http/errors.ts";
import { route, type Ctx, type Route } from "../http/router.ts";
import { signatureMatches } from "../../harness/ota/signer.ts";
import { commit, uploadIdle } from "./backend.ts";
import { serialRefused } from "./device-auth.ts";
import { NAME, serialStatus } from "./provision.ts";
import { vendorAuth } from "./vendor-auth.ts";

export const UPLOAD_URL_TTL_S = 15 * 60;
const FILTERS = ["all", "processing", "success", "failed"] as const;

export function vendorRoutes(app: App): Route[] {
  return [
    route("POST", "/ota/artifact", "vendor", (ctx) => createArtifact(app, ctx)),
    route("POST", "/ota/artifact/:uuid", "vendor", (ctx) => uploadUrl(app, ctx)),
    route("GET", "/ota/artifact/:uuid", "vendor", (ctx) => artifactInfo(app, ctx)),
    route("PUT", "/ota/upload/:uuid", "vendor", (ctx) => putArtifact(app, ctx)),
    route("POST", "/ota/deployment", "vendor", (ctx) => createDeployment(app, ctx)),
    route("GET", "/ota/deployment/:id/:filter", "vendor", (ctx) => deploymentStatus(app, ctx)),
    route("GET", "/ota/device/:sn", "vendor", (ctx) => deviceInfo(app, ctx)),
  ];
}

/** Why a name is refused, or undefined when it is a plain file name. */
export function badArtifactName(name: unknown): string | undefined {
  if (typeof name !== "string" || name.length === 0) return "artifact_name is required";
  if (Buffer.byteLength(name) > 255) return "artifact_name is over 255 bytes";
  if (/[/\\]/.test(name)) return "artifact_name must not contain path separators";
  if (name.includes("..")) return "artifact_name must not contain '..'";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return "artifact_name must not contain control characters";
  return undefined;
}

function md5Field(body: Record<string, unknown>): string {
  const md5 = body.artifact_md5;
  if (typeof md5 !== "string" || !/^[0-9a-fA-F]{32}$/.test(md5)) throw new HttpError(400, "E400-2", "artifact_md5 must be 32 hex digits");
  return md5.toLowerCase();
}

/** The vendor's own artifact; another vendor's looks exactly like a missing one. */
function ownArtifact(app: App, vendor: string, uuid: string | undefined): ArtifactRow {
  const a = uuid ? app.store.artifact(uuid.toLowerCase()) : undefined;
  if (!a || a.vendor !== vendor) throw new HttpError(404, "E404-1", "no such artifact");
  return a;
}

async function createArtifact(app: App, ctx: Ctx): Promise<void> {
  const key = vendorAuth(app, ctx);
  const body = await readJsonObject(ctx.req);
  const why = badArtifactName(body.artifact_name);
  if (why) throw new HttpError(400, "E400-1", why);
  const md5 = md5Field(body);
  const model = artifactModel(app, key.vendor, body.model);
  const uuid = randomUUID();
  app.store.createArtifact(uuid, key.vendor, body.artifact_name as string, md5, ctx.now, model?.id ?? null);
  ctx.logFields.artifact_uuid = uuid;
  sendJson(ctx.res, 200, { artifact_uuid: uuid });
}

/** `model` (an extra of this server): the product line the image is for; deployments stay in it. */
function artifactModel(app: App, vendor: string, name: unknown): ModelRow | undefined {
  if (name === undefined || name === null || name === "") return undefined;
  if (typeof name !== "string" || !NAME.test(name)) throw new HttpError(400, "E400-15", "model must be a model name");
  const model = app.store.modelByName(vendor, name);
  if (!model) throw new HttpError(404, "E404-4", "no such model");
  return model;
}

export function uploadSignature(app: App, uuid: string, expires: number): string {
  return createHmac("sha256", app.uploadKey).update(`${uuid}\n${expires}`).digest("hex");
}

async function uploadUrl(app: App, ctx: Ctx): Promise<void> {
  const key = vendorAuth(app, ctx);
  const artifact = ownArtifact(app, key.vendor, ctx.params.uuid);
  const md5 = md5Field(await readJsonObject(ctx.req));
  if (md5 !== artifact.md5) throw new HttpError(400, "E400-3", "artifact_md5 differs from the one the artifact was created with");
  const expires = Math.floor(ctx.now / 1000) + UPLOAD_URL_TTL_S;
  const base = app.config.publicUrl ?? `http://${ctx.req.headers.host ?? "127.0.0.1"}`;
  const upload_url = `${base}/ota/upload/${artifact.uuid}?expires=${expires}&signature=${uploadSignature(app, artifact.uuid, expires)}`;
  ctx.logFields.artifact_uuid = artifact.uuid;
  sendJson(ctx.res, 200, {
    upload_url,
    content_md5: Buffer.from(artifact.md5, "hex").toString("base64"),
    content_type: "application/octet-stream",
  });
}

function artifactInfo(app: App, ctx: Ctx): void {
  const key = vendorAuth(app, ctx);
  const a = ownArtifact(app, key.vendor, ctx.params.uuid);
  sendJson(ctx.res, 200, {
    artifact_uuid: a.uuid,
    artifact_name: a.name,
    artifact_md5: a.md5,
    sha256: a.sha256,
    size: a.size,
    uploaded: a.sha256 !== null,
    ...(a.model_id === null ? {} : { model: app.store.model(a.model_id)?.name ?? null }),
  });
}

/** The pre-signed PUT: no ALLXON-SIG1, the URL's own HMAC and expiry are the authority. */
async function putArtifact(app: App, ctx: Ctx): Promise<void> {
  const uuid = (ctx.params.uuid ?? "").toLowerCase();
  const expires = Number(ctx.url.searchParams.get("expires") ?? "NaN");
  const sig = ctx.url.searchParams.get("signature") ?? "";
  if (!Number.isInteger(expires) || !/^[0-9a-f]{64}$/i.test(sig) || !signatureMatches(uploadSignature(app, uuid, expires), sig.toLowerCase())) {
    throw new HttpError(403, "E403-1", "invalid upload URL");
  }
  if (Math.floor(ctx.now / 1000) > expires) throw new HttpError(403, "E403-2", "upload URL has expired");
  const artifact = app.store.artifact(uuid);
  if (!artifact) throw new HttpError(403, "E403-1", "invalid upload URL");
  ctx.logFields.artifact_uuid = uuid;
  // One-shot: a URL that uploaded is spent; an artifact's verified bytes are never replaced.
  if (app.store.uploadUrlUsed(sig.toLowerCase())) throw new HttpError(403, "E403-3", "upload URL was already used");
  if (artifact.sha256 !== null) throw alreadyUploaded();

  const expected = Buffer.from(artifact.md5, "hex").toString("base64");
  const header = (ctx.req.headers["content-md5"] as string | undefined)?.trim();
  if (!header) throw new HttpError(400, "E400-4", "Content-MD5 header is required");
  if (header !== expected) throw new HttpError(400, "E400-5", "Content-MD5 differs from the artifact's registered md5");
  const max = app.config.maxUploadBytes;
  if (Number(ctx.req.headers["content-length"] ?? "0") > max) throw tooLargeVendor(max);

  allowSlowBody(ctx.req, ctx.res, uploadIdle(app));
  const writer = await app.blobs.begin(max);
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) await writer.write(chunk);
    const digest = await writer.finish();
    if (digest.md5 !== artifact.md5) throw new HttpError(400, "E400-6", "body md5 differs from Content-MD5; nothing stored");
    await commit(app, writer, ctx.now);
    const stored = app.store.artifactUploadedOnce(uuid, sig.toLowerCase(), digest.sha256, digest.size, ctx.now);
    if (stored === "used") throw new HttpError(403, "E403-3", "upload URL was already used");
    if (stored === "uploaded") throw alreadyUploaded();
    ctx.logFields.sha256 = digest.sha256;
    ctx.logFields.size = digest.size;
    sendEmpty(ctx.res, 200, { "content-length": "0" });
  } catch (err) {
    await writer.abort();
    if (err instanceof UploadTooLarge) throw tooLargeVendor(max);
    throw err;
  }
}

function alreadyUploaded(): HttpError {
  return new HttpError(409, "E409-4", "the artifact already has verified bytes; create a new artifact for other bytes");
}

function tooLargeVendor(max: number): HttpError {
  return new HttpError(413, "E413-1", `upload exceeds OTA_MAX_UPLOAD (${max} bytes)`);
}

async function createDeployment(app: App, ctx: Ctx): Promise<void> {
  const key = vendorAuth(app, ctx);
  const body = await readJsonObject(ctx.req);
  const rawSns = typeof body.device_sn === "string" ? [body.device_sn] : body.device_sn;
  if (!Array.isArray(rawSns) || rawSns.length === 0 || !rawSns.every((s) => typeof s === "string" && s.trim() !== "")) {
    throw new HttpError(400, "E400-7", "device_sn must be a non-empty list of serial numbers");
  }
  if (typeof body.artifact_uuid !== "string") throw new HttpError(400, "E400-8", "artifact_uuid is required");
  const artifact = ownArtifact(app, key.vendor, body.artifact_uuid);
  const result = deploy(app, key.vendor, artifact, rawSns as string[], body.arguments, ctx.now);
  ctx.logFields.deployment_id = result.deployment_id;
  sendJson(ctx.res, 202, result);
}

export interface DeployResult {
  deployment_id: string;
  deployment_accepted: string[];
  deployment_rejected: { device_sn: string; message: string }[];
}

/** Creates a deployment of a vendor's artifact to the serials it knows (the API and the portal). */
export function deploy(app: App, vendor: string, artifact: ArtifactRow, serials: string[], args: unknown, now: number): DeployResult {
  const accepted: string[] = [];
  const rejected: { device_sn: string; message: string }[] = [];
  const devices: DeviceRow[] = [];
  for (const sn of [...new Set(serials.map((s) => s.trim()))]) {
    const why = artifact.sha256 === null ? "artifact not uploaded yet" : undefined;
    const chosen = why ? { why } : deviceFor(app, vendor, artifact, sn);
    if ("why" in chosen) rejected.push({ device_sn: sn, message: chosen.why });
    else {
      accepted.push(sn);
      devices.push(chosen.device);
    }
  }
  const id = randomUUID();
  app.store.createDeployment(id, vendor, artifact.uuid, args, devices, now);
  return { deployment_id: id, deployment_accepted: accepted, deployment_rejected: rejected };
}

/**
 * The one device a serial number names for this artifact: within the artifact's model when it
 * has one; a serial in several of the vendor's models needs that (never another product line's
 * device); a disabled or never-enabled serial gets nothing (and no firewall allow).
 */
function deviceFor(app: App, vendor: string, artifact: ArtifactRow, sn: string): { device: DeviceRow } | { why: string } {
  const found = app.store.vendorDevices(vendor, sn).filter((d) => artifact.model_id === null || d.model_id === artifact.model_id);
  if (found.length === 0) return { why: "unknown device" };
  if (found.length > 1) return { why: "serial number is in several models: create the artifact with its model" };
  if (serialRefused(found[0])) return { why: "serial number is not enabled" };
  return { device: found[0]! };
}

function deploymentStatus(app: App, ctx: Ctx): void {
  const key = vendorAuth(app, ctx);
  const filter = ctx.params.filter as (typeof FILTERS)[number];
  if (!FILTERS.includes(filter)) throw new HttpError(404, "E404-3", `status filter must be one of ${FILTERS.join(", ")}`);
  const d = app.store.deployment(ctx.params.id ?? "");
  if (!d || d.vendor !== key.vendor) throw new HttpError(404, "E404-2", "no such deployment");
  const rows = app.store.deploymentDevices(d.seq, filter === "all" ? undefined : (filter as DeploymentStatus));
  sendJson(
    ctx.res,
    200,
    rows.map((r) => ({ device_sn: r.device_sn, deployment_status: r.deployment_status, update_epoch: r.update_epoch })),
  );
}

/** What the server knows of a device (not in the documents; for `assert.*` steps and people). */
function deviceInfo(app: App, ctx: Ctx): void {
  const key = vendorAuth(app, ctx);
  const rows = app.store.vendorDevices(key.vendor, ctx.params.sn ?? "");
  if (rows.length === 0) throw new HttpError(404, "E404-7", "no such device");
  sendJson(
    ctx.res,
    200,
    rows.map((d) => ({
      model: app.store.model(d.model_id)?.name ?? null,
      device_sn: d.sn,
      status: d.prov_status === null ? null : serialStatus(app, d, ctx.now),
      current_hash: d.current_hash,
      state: d.state,
      message: d.message,
      last_seen: d.last_seen,
      target_hash: app.store.deployedTarget(d.id) ?? app.store.newestUpload(d.model_id) ?? null,
    })),
  );
}
