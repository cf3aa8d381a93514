// Portal sessions: a random token in an HttpOnly, SameSite=Strict cookie that expires, held in
// memory (a server restart signs everyone out), each with its own CSRF token for forms.
import { randomBytes } from "node:crypto";
import type { ApiKey } from "../config.ts";
import type { Ctx } from "../http/router.ts";
import { sameSecret } from "../routes/device-auth.ts";

export const SESSION_COOKIE = "otarig_portal";
/** The sign-in form's own CSRF token (double-submit: cookie + hidden field), before any session. */
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

export function sessionCookie(token: string, maxAgeMs: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

export function clearedCookie(name: string): string {
  return `${name}=; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=0`;
}

export function signInCookie(token: string): string {
  return `${SIGN_IN_COOKIE}=${token}; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=3600`;
}

export function csrfMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && sameSecret(expected, given);
}
