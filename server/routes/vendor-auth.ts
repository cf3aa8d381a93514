// ALLXON-SIG1 verification for the signed vendor API (DESIGN §4): the key is derived from the
// request's own epoch hour, the signature covers method + raw path-with-query + epoch, and the
// epoch must lie within ±10 minutes of the server clock.
import type { ApiKey } from "../config.ts";
import type { App } from "../context.ts";
import { HttpError } from "../http/errors.ts";
import type { Ctx } from "../http/router.ts";
import { parseAuthorization, signature, signatureMatches } from "../../harness/ota/signer.ts";

export const EPOCH_WINDOW_MS = 10 * 60_000;

export function vendorAuth(app: App, ctx: Ctx): ApiKey {
  // Failed signatures count per client address; past the limit, 429 until the window ends.
  app.limits.check("signature", ctx.req, ctx.now, "E429-1");
  let verified: { key: ApiKey; signature: string; epoch: number };
  try {
    verified = verify(app, ctx);
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) app.limits.fail("signature", ctx.req, ctx.now);
    throw err;
  }
  const { key, signature: sig, epoch } = verified;
  const method = ctx.req.method ?? "";
  if (method !== "GET" && method !== "HEAD" && !app.replays.firstUse(key.keyId, sig, epoch + EPOCH_WINDOW_MS, ctx.now)) {
    throw new HttpError(401, "E401-4", "this signature was already used: sign every request that changes something anew (a new epoch)");
  }
  return key;
}

function verify(app: App, ctx: Ctx): { key: ApiKey; signature: string; epoch: number } {
  const auth = parseAuthorization(single(ctx.req.headers.authorization));
  if (!auth) throw new HttpError(401, "E401-1", 'missing or malformed Authorization (ALLXON-SIG1 Credential="…",Signature="…")');
  const epochText = single(ctx.req.headers["x-allxon-epoch"])?.trim();
  if (!epochText || !/^\d{1,16}$/.test(epochText)) throw new HttpError(401, "E401-1", "missing or malformed X-Allxon-Epoch");
  const epoch = Number(epochText);
  if (Math.abs(ctx.now - epoch) > EPOCH_WINDOW_MS) {
    throw new HttpError(401, "E401-3", "X-Allxon-Epoch is more than 10 minutes away from the server clock");
  }
  const key = app.config.apiKeys.find((k) => k.keyId === auth.keyId);
  // Unknown key and wrong signature are one answer, so key ids cannot be probed.
  const expected = signature(key?.secret ?? "", ctx.req.method ?? "", ctx.target, epoch);
  if (!key || !signatureMatches(expected, auth.signature)) throw new HttpError(401, "E401-2", "invalid credential or signature");
  ctx.logFields.vendor = key.vendor;
  ctx.logFields.key_id = key.keyId;
  return { key, signature: auth.signature, epoch };
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
