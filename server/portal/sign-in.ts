// Signing in with a vendor API key (id + secret from OTA_API_KEYS) and signing out. A failed
// sign-in is one answer whatever was wrong; the reason goes to the server log, and failures
// count against the client address (429 past the limit).
import { randomBytes } from "node:crypto";
import type { App } from "../context.ts";
import { first, readFields } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import { route, type Ctx, type Route } from "../http/router.ts";
import { sameSecret } from "../http/same-secret.ts";
import { html } from "./html.ts";
import { page, type Notice } from "./layout.ts";
import { postForm, send } from "./respond.ts";
import { clearedCookie, cookies, newSignInToken, SESSION_COOKIE, SIGN_IN_COOKIE, signInCookie, signInTokenValid, sessionCookie } from "./session.ts";

export function signInRoutes(app: App): Route[] {
  return [
    route(["GET", "HEAD"], "/portal/sign-in", "text", (ctx) => {
      const notice: Notice | undefined = ctx.url.searchParams.has("expired")
        ? { kind: "error", text: "Your session has expired. Sign in again." }
        : undefined;
      signInPage(app, ctx, 200, notice);
    }),
    route("POST", "/portal/sign-in", "text", (ctx) => signIn(app, ctx)),
    postForm(
      app,
      "/portal/sign-out",
      () => "/portal/sign-in",
      (ctx) => {
        app.portalSessions.end(ctx);
        return { redirect: "/portal/sign-in", headers: { "set-cookie": clearedCookie(SESSION_COOKIE, secureCookies(app)) } };
      },
    ),
  ];
}

/** Cookies carry `Secure` when the portal's public URL is https. */
export function secureCookies(app: App): boolean {
  return app.config.publicUrl?.toLowerCase().startsWith("https://") === true;
}

function signInPage(app: App, ctx: Ctx, status: number, notice?: Notice, headers: Record<string, string> = {}): void {
  // Login CSRF: the form carries a server-made token (HMAC) that must match its own cookie.
  const token = newSignInToken(app.portalKey, ctx.now);
  const body = html`<form method="post" action="/portal/sign-in" aria-label="Sign in">
<input type="hidden" name="csrf" value="${token}">
<label>API key id <input name="key_id" autocomplete="username" required></label>
<label>API secret <input name="secret" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`;
  send(ctx, { html: page("Sign in", undefined, body, notice), status, headers: { ...headers, "set-cookie": signInCookie(token, secureCookies(app)) } });
}

async function signIn(app: App, ctx: Ctx): Promise<void> {
  try {
    app.limits.check("sign-in", ctx.req, ctx.now);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return signInPage(app, ctx, err.status, { kind: "error", text: `Too many failed sign-ins from your address: ${err.message}.` }, err.headers);
  }
  const fields = await readFields(ctx.req);
  const fail = (reason: string, status = 401): void => {
    app.limits.fail("sign-in", ctx.req, ctx.now);
    app.log.warn("portal sign-in failed", { request_id: ctx.requestId, reason });
    signInPage(app, ctx, status, { kind: "error", text: "Sign-in failed: unknown key id or wrong secret." });
  };
  if (!signInTokenValid(app.portalKey, cookies(ctx).get(SIGN_IN_COOKIE), first(fields, "csrf"), ctx.now)) {
    app.log.warn("portal: sign-in form without a valid CSRF token", { request_id: ctx.requestId });
    return signInPage(app, ctx, 403, { kind: "error", text: "Request refused: invalid or missing CSRF token. Try again." });
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
    headers: { "set-cookie": [sessionCookie(token, app.portalSessions.ttl, secureCookies(app)), clearedCookie(SIGN_IN_COOKIE, secureCookies(app))] },
  });
}

