// How portal handlers answer: every route goes through here, which checks the session (and the
// CSRF token of a form), sets the security headers, and turns errors into pages.
import type { ServerResponse } from "node:http";
import type { App } from "../context.ts";
import { readFields, type Fields } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import { route, type Ctx, type Route } from "../http/router.ts";
import { html, type Html } from "./html.ts";
import { page, type Notice } from "./layout.ts";
import { cookies, csrfMatches, SESSION_COOKIE, type PortalSession } from "./session.ts";

export type Reply =
  | { html: Html; status?: number; headers?: Record<string, string | string[]> }
  | { redirect: string; notice?: Notice; headers?: Record<string, string | string[]> }
  | { json: unknown }
  | { asset: string; type: string };

export type PageHandler = (ctx: Ctx, session: PortalSession) => Reply | Promise<Reply>;
export type FormHandler = (ctx: Ctx, session: PortalSession, fields: Fields) => Reply | Promise<Reply>;

// Nothing from elsewhere: no inline script, no external asset, no framing, forms post here only.
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

/** Every portal answer carries these, its error pages (404, 405) included. */
export function setSecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}

export function send(ctx: Ctx, reply: Reply): void {
  const res = ctx.res;
  setSecurityHeaders(res);
  if ("redirect" in reply) {
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.writeHead(303, { location: reply.redirect, "content-length": "0" });
    res.end();
    return;
  }
  let body: string;
  let type: string;
  if ("json" in reply) [body, type] = [JSON.stringify(reply.json), "application/json; charset=utf-8"];
  else if ("asset" in reply) [body, type] = [reply.asset, reply.type];
  else {
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    [body, type] = [reply.html.text, "text/html; charset=utf-8"];
  }
  if ("asset" in reply) res.setHeader("cache-control", "public, max-age=300");
  res.writeHead("html" in reply ? (reply.status ?? 200) : 200, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(ctx.req.method === "HEAD" ? undefined : body);
}

/** A page for anyone signed in; others go to the sign-in page (told when their session expired). */
export function getPage(app: App, path: string, handler: PageHandler): Route {
  return route(["GET", "HEAD"], path, "text", async (ctx) => {
    const session = app.portalSessions.find(ctx);
    if (!session) return send(ctx, toSignIn(ctx));
    send(ctx, await guarded(ctx, session, () => handler(ctx, session)));
  });
}

/** A form post: needs the session and its CSRF token; errors come back as a notice on `back`. */
export function postForm(app: App, path: string, back: (ctx: Ctx) => string, handler: FormHandler, readBody = true): Route {
  return route("POST", path, "text", async (ctx) => {
    const session = app.portalSessions.find(ctx);
    if (!session) return send(ctx, { html: page("Signed out", undefined, SIGNED_OUT), status: 401 });
    const fields: Fields = readBody ? await readFields(ctx.req) : new Map();
    if (readBody && !csrfMatches(session.csrf, fields.get("csrf")?.[0])) return send(ctx, csrfRejected(app, ctx, session));
    send(ctx, await guarded(ctx, session, () => handler(ctx, session, fields), back(ctx)));
  });
}

export function csrfRejected(app: App, ctx: Ctx, session: PortalSession): Reply {
  app.log.warn("portal: form without a valid CSRF token", { request_id: ctx.requestId, path: ctx.url.pathname });
  return {
    html: page("Request refused", session, html`<p>The form was missing its security token or it did not match. Reload the page and try again.</p>`, {
      kind: "error",
      text: "Request refused: invalid or missing CSRF token",
    }),
    status: 403,
  };
}

/** Client errors (4xx) become a notice; a form's goes back to its page. */
async function guarded(ctx: Ctx, session: PortalSession, run: () => Reply | Promise<Reply>, back?: string): Promise<Reply> {
  try {
    const reply = await run();
    if ("redirect" in reply && reply.notice) session.notice = reply.notice;
    return reply;
  } catch (err) {
    if (!(err instanceof HttpError) || err.status >= 500) throw err;
    if (back) {
      session.notice = { kind: "error", text: err.message };
      return { redirect: back };
    }
    const title = err.status === 404 ? "Not found" : "Request refused";
    return { html: page(title, session, html`<p><a href="/portal/">Back to the portal</a></p>`, { kind: "error", text: err.message }), status: err.status };
  }
}

/** The notice a page shows once. */
export function takeNotice(session: PortalSession): Notice | undefined {
  const n = session.notice;
  delete session.notice;
  return n;
}

function toSignIn(ctx: Ctx): Reply {
  const expired = cookies(ctx).has(SESSION_COOKIE);
  return { redirect: expired ? "/portal/sign-in?expired=1" : "/portal/sign-in" };
}

const SIGNED_OUT = html`<p role="alert">Your session has expired or you are signed out. <a href="/portal/sign-in">Sign in</a> again.</p>`;
