// Signing in with a vendor API key (id + secret from OTA_API_KEYS) and signing out. A failed
// sign-in is one answer whatever was wrong; the reason goes to the server log, and failures
// count against the client address (429 past the limit).
import { randomBytes } from "node:crypto";
import type { App } from "../context.ts";
import { first, readFields } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import { clientAddress } from "../http/rate-limit.ts";
import { route, type Ctx, type Route } from "../http/router.ts";
import { sameSecret } from "../routes/device-auth.ts";
import { html } from "./html.ts";
import { page, type Notice } from "./layout.ts";
import { postForm, send } from "./respond.ts";
import { clearedCookie, cookies, csrfMatches, SESSION_COOKIE, SIGN_IN_COOKIE, signInCookie, sessionCookie } from "./session.ts";

export function signInRoutes(app: App): Route[] {
  return [
    route(["GET", "HEAD"], "/portal/sign-in", "text", (ctx) => {
      const notice: Notice | undefined = ctx.url.searchParams.has("expired")
        ? { kind: "error", text: "Your session has expired. Sign in again." }
        : undefined;
      signInPage(ctx, 200, notice);
    }),
    route("POST", "/portal/sign-in", "text", (ctx) => signIn(app, ctx)),
    postForm(
      app,
      "/portal/sign-out",
      () => "/portal/sign-in",
      (ctx) => {
        app.portalSessions.end(ctx);
        return { redirect: "/portal/sign-in", headers: { "set-cookie": clearedCookie(SESSION_COOKIE) } };
      },
    ),
  ];
}

function signInPage(ctx: Ctx, status: number, notice?: Notice, headers: Record<string, string> = {}): void {
  // Login CSRF: the form carries a token that must match its own cookie (double submit).
  const token = randomBytes(24).toString("base64url");
  const body = html`<form method="post" action="/portal/sign-in" aria-label="Sign in">
<input type="hidden" name="csrf" value="${token}">
<label>API key id <input name="key_id" autocomplete="username" required></label>
<label>API secret <input name="secret" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`;
  send(ctx, { html: page("Sign in", undefined, body, notice), status, headers: { ...headers, "set-cookie": signInCookie(token) } });
}

async function signIn(app: App, ctx: Ctx): Promise<void> {
  const address = clientAddress(ctx.req);
  try {
    app.authFailures.check(address, ctx.now);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return signInPage(ctx, err.status, { kind: "error", text: `Too many failed sign-ins from your address: ${err.message}.` }, err.headers);
  }
  const fields = await readFields(ctx.req);
  const fail = (reason: string, status = 401): void => {
    app.authFailures.fail(address, ctx.now);
    app.log.warn("portal sign-in failed", { request_id: ctx.requestId, reason });
    signInPage(ctx, status, { kind: "error", text: "Sign-in failed: unknown key id or wrong secret." });
  };
  const formToken = first(fields, "csrf");
  const cookieToken = cookies(ctx).get(SIGN_IN_COOKIE);
  if (!formToken || !cookieToken || !csrfMatches(cookieToken, formToken)) {
    app.log.warn("portal: sign-in form without a valid CSRF token", { request_id: ctx.requestId });
    return signInPage(ctx, 403, { kind: "error", text: "Request refused: invalid or missing CSRF token. Try again." });
  }
  const keyId = first(fields, "key_id")?.trim() ?? "";
  const secret = first(fields, "secret") ?? "";
  const key = app.config.apiKeys.find((k) => k.keyId === keyId);
  // compare even for an unknown key id, so timing does not tell known ids apart
  const ok = sameSecret(key?.secret ?? randomBytes(16).toString("hex"), secret) && key !== undefined;
  if (!ok) return fail(key ? "wrong secret" : "unknown key id");
  const { token } = app.portalSessions.create(key, ctx.now);
  ctx.logFields.vendor = key.vendor;
  send(ctx, {
    redirect: "/portal/models",
    headers: { "set-cookie": [sessionCookie(token, app.portalSessions.ttl), clearedCookie(SIGN_IN_COOKIE)] },
  });
}

