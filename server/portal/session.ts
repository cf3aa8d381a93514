// Portal sessions: a random token in an HttpOnly, SameSite=Strict cookie that expires, held in
// memory (a server restart signs everyone out), each with its own CSRF token for forms.
import { createHmac, randomBytes } from "node:crypto";
import type { ApiKey } from "../config.ts";
import type { Ctx } from "../http/router.ts";
import { sameSecret } from "../http/same-secret.ts";

export const SESSION_COOKIE = "otarig_portal";
/**
 * The sign-in form's own CSRF token, before any session: the same token in a cookie and a hidden
 * field, and the token is an HMAC of a server key (with an expiry), so a cookie an attacker
 * planted does not pass unless the server made it.
 */
export const SIGN_IN_COOKIE = "otarig_portal_signin";

export interface PortalSession {
  vendor: string;
  keyId: string;
  csrf: string;
  expiresAt: number;
  /** shown once on the next page (after a form's redirect) */
  notice?: { kind: "ok" | "error"; text: string };
}

const MAX_SESSIONS = 10_000;

export class SessionStore {
  private readonly sessions = new Map<string, PortalSession>();

  constructor(private readonly ttlMs: number) {}

  get ttl(): number {
    return this.ttlMs;
  }

  create(key: ApiKey, now: number): { token: string; session: PortalSession } {
    this.sweep(now);
    const token = randomBytes(32).toString("base64url");
    const session = { vendor: key.vendor, keyId: key.keyId, csrf: randomBytes(24).toString("base64url"), expiresAt: now + this.ttlMs };
    this.sessions.set(token, session);
    return { token, session };
  }

  /** The live session a request's cookie names, or undefined (expired ones are dropped). */
  find(ctx: Ctx): PortalSession | undefined {
    const token = cookies(ctx).get(SESSION_COOKIE);
    if (!token) return undefined;
    const s = this.sessions.get(token);
    if (s && ctx.now >= s.expiresAt) this.sessions.delete(token);
    return s && ctx.now < s.expiresAt ? s : undefined;
  }

  end(ctx: Ctx): void {
    const token = cookies(ctx).get(SESSION_COOKIE);
    if (token) this.sessions.delete(token);
  }

  private sweep(now: number): void {
    if (this.sessions.size < MAX_SESSIONS) return;
    for (const [t, s] of this.sessions) if (now >= s.expiresAt) this.sessions.delete(t);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

export function cookies(ctx: Ctx): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (ctx.req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** `Secure` when the portal is reached over https (OTA_PUBLIC_URL), so cookies never go out in clear. */
function attributes(secure: boolean): string {
  return `Path=/portal; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function sessionCookie(token: string, maxAgeMs: number, secure = false): string {
  return `${SESSION_COOKIE}=${token}; ${attributes(secure)}; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

export function clearedCookie(name: string, secure = false): string {
  return `${name}=; ${attributes(secure)}; Max-Age=0`;
}

export const SIGN_IN_TOKEN_TTL_MS = 3_600_000;

export function signInCookie(token: string, secure = false): string {
  return `${SIGN_IN_COOKIE}=${token}; ${attributes(secure)}; Max-Age=${SIGN_IN_TOKEN_TTL_MS / 1000}`;
}

function signInMac(key: string, nonce: string, expires: string): string {
  return createHmac("sha256", key).update(`portal sign-in\n${nonce}\n${expires}`).digest("base64url");
}

/** `nonce.expires.hmac`: only the server (holder of `key`) can make one. */
export function newSignInToken(key: string, now: number): string {
  const nonce = randomBytes(18).toString("base64url");
  const expires = String(now + SIGN_IN_TOKEN_TTL_MS);
  return `${nonce}.${expires}.${signInMac(key, nonce, expires)}`;
}

/** The form's token equals the cookie's, was made by this server, and has not expired. */
export function signInTokenValid(key: string, cookieToken: string | undefined, formToken: string | undefined, now: number): boolean {
  if (!cookieToken || !formToken || !sameSecret(cookieToken, formToken)) return false;
  const [nonce, expires, mac, ...rest] = formToken.split(".");
  if (!nonce || !expires || !mac || rest.length > 0 || !/^\d{1,16}$/.test(expires) || Number(expires) <= now) return false;
  return sameSecret(signInMac(key, nonce, expires), mac);
}

export function csrfMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && sameSecret(expected, given);
}
