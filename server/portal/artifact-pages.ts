// Artifacts: the list, and an upload form whose file is stored exactly as the signed three-step
// flow stores it (an artifact record with name and MD5, the bytes as a verified blob).
import { randomUUID } from "node:crypto";
import type { App } from "../context.ts";
import { UploadTooLarge } from "../blobs.ts";
import { HttpError } from "../http/errors.ts";
import { boundaryOf, readFirstFilePart } from "../http/multipart.ts";
import type { Ctx, Route } from "../http/router.ts";
import { allowSlowBody } from "../http/body-idle.ts";
import { commit, uploadIdle } from "../routes/backend.ts";
import { badArtifactName } from "../routes/vendor.ts";
import { html, when } from "./html.ts";
import { csrfField, page } from "./layout.ts";
import { csrfRejected, getPage, postForm, takeNotice, type Reply } from "./respond.ts";
import { csrfMatches, type PortalSession } from "./session.ts";

export function artifactRoutes(app: App): Route[] {
  return [
    getPage(app, "/portal/artifacts", (_ctx, s) => ({ html: artifactsPage(app, s) })),
    // multipart: the CSRF token is a field of the form body, before the file (checked by the handler)
    postForm(app, "/portal/artifacts", () => "/portal/artifacts", (ctx, s) => upload(app, ctx, s), false),
  ];
}

async function upload(app: App, ctx: Ctx, s: PortalSession): Promise<Reply> {
  const boundary = boundaryOf(ctx.req.headers["content-type"]);
  if (!boundary) throw new HttpError(400, "NOT_MULTIPART", "The upload must be a multipart form");
  const max = app.config.maxUploadBytes;
  if (Number(ctx.req.headers["content-length"] ?? "0") > max) throw new HttpError(413, "TOO_LARGE", `The file is over the upload limit (${max} bytes)`);
  const fields = new Map<string, string>();
  // The token field comes before the file part (the form puts it first): no byte of a file is
  // written, nor the rest of the body read, for a request without it.
  const tokenOk = (): boolean => csrfMatches(s.csrf, fields.get("csrf"));
  const refuse = (): Reply => {
    if (!ctx.req.complete) ctx.res.setHeader("connection", "close");
    return csrfRejected(app, ctx, s);
  };
  allowSlowBody(ctx.req, ctx.res, uploadIdle(app));
  const writer = await app.blobs.begin(max);
  try {
    const write = (chunk: Buffer): Promise<void> => {
      if (!tokenOk()) throw new CsrfMissing();
      return writer.write(chunk);
    };
    const file = await readFirstFilePart(ctx.req as AsyncIterable<Buffer>, boundary, write, (k, v) => fields.set(k, v));
    if (!tokenOk()) {
      await writer.abort();
      return refuse();
    }
    if (!file || file.filename === "") throw new HttpError(400, "NO_FILE", "Choose a file to upload");
    const name = fields.get("name")?.trim() || file.filename;
    const why = badArtifactName(name);
    if (why) throw new HttpError(400, "BAD_NAME", why.replace("artifact_name", "The artifact name"));
    const modelName = fields.get("model")?.trim();
    const model = modelName ? app.store.modelByName(s.vendor, modelName) : undefined;
    if (modelName && !model) throw new HttpError(400, "NO_MODEL", `No such model: ${modelName}`);
    const digest = await commit(app, writer, ctx.now);
    const uuid = randomUUID();
    app.store.db.transaction(() => {
      app.store.createArtifact(uuid, s.vendor, name, digest.md5, ctx.now, model?.id ?? null);
      app.store.artifactUploaded(uuid, digest.sha256, digest.size, ctx.now);
    })();
    ctx.logFields.artifact_uuid = uuid;
    ctx.logFields.sha256 = digest.sha256;
    return { redirect: "/portal/artifacts", notice: { kind: "ok", text: `Uploaded ${name} (${digest.size} bytes, sha256 ${digest.sha256})` } };
  } catch (err) {
    await writer.abort();
    if (err instanceof CsrfMissing) return refuse();
    if (err instanceof UploadTooLarge) throw new HttpError(413, "TOO_LARGE", `The file is over the upload limit (${max} bytes)`);
    throw err;
  }
}

/** A file part came before a valid CSRF token field. */
class CsrfMissing extends Error {}

function artifactsPage(app: App, s: PortalSession) {
  const artifacts = app.store.artifactsOf(s.vendor);
  const models = app.store.modelsOfVendor(s.vendor).map((m) => html`<option value="${m.name}">${m.name}</option>`);
  const rows = artifacts.map(
    (a) =>
      html`<tr data-uuid="${a.uuid}"><td>${a.name}</td><td>${a.size ?? "—"}</td><td class="hash">${a.md5}</td><td class="hash">${a.sha256 ?? "not uploaded"}</td><td class="hash">${a.uuid}</td><td>${when(a.uploaded_at ?? a.created_at)}</td></tr>`,
  );
  const body = html`${
    artifacts.length
      ? html`<table aria-label="Artifacts"><thead><tr><th>Name</th><th>Size</th><th>MD5</th><th>SHA-256</th><th>UUID</th><th>Uploaded</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p>No artifacts yet.</p>`
  }
<form method="post" action="/portal/artifacts" enctype="multipart/form-data">
<fieldset><legend>Upload an artifact</legend>
${csrfField(s)}
<label>Artifact name (default: the file's name) <input name="name"></label>
<label>For model (deployments by serial stay in it) <select name="model"><option value="">any of my models</option>${models}</select></label>
<label>Firmware file <input type="file" name="file" required></label>
<button type="submit">Upload</button>
</fieldset>
</form>`;
  return page("Artifacts", s, body, takeNotice(s));
}
