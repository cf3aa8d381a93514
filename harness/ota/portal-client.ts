// Signing in to the reference server's portal (/portal/) over plain HTTP: the sign-in form's
// CSRF token and cookie, then the key id and secret. The browser only ever gets the session
// cookie, so the secret is in no page, trace or log.
import { TestFailure } from "../core/errors.ts";
import { request } from "./http.ts";

export interface PortalCookie {
  name: string;
  value: string;
  /** seconds the server lets the session live */
  maxAgeS: number;
}

export async function portalSignIn(portalUrl: string, key: { keyId: string; secret: string }): Promise<PortalCookie> {
  const base = portalUrl.replace(/\/+$/, "");
  const form = await request({ method: "GET", url: `${base}/sign-in`, timeoutMs: 15_000 });
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body.toString("utf8"))?.[1];
  const signInCookie = cookiesOf(form.headers["set-cookie"]).find((c) => c.name === "otarig_portal_signin");
  if (form.status !== 200 || !csrf || !signInCookie) {
    throw new TestFailure(`GET ${base}/sign-in answered ${form.status} without the sign-in form (is ${base} the otarig portal?)`);
  }
  const answer = await request({
    method: "POST",
    url: `${base}/sign-in`,
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `${signInCookie.name}=${signInCookie.value}` },
    body: new URLSearchParams({ csrf, key_id: key.keyId, secret: key.secret }).toString(),
    timeoutMs: 15_000,
  });
  const session = cookiesOf(answer.headers["set-cookie"]).find((c) => c.name === "otarig_portal" && c.value !== "");
  if (answer.status !== 303 || !session) {
    const why = answer.status === 429 ? `429, retry after ${answer.headers["retry-after"] ?? "?"}s` : String(answer.status);
    throw new TestFailure(`signing in to ${base} with API key ${key.keyId} failed: the portal answered ${why}`);
  }
  return session;
}

function cookiesOf(header: string[] | undefined): PortalCookie[] {
  return (header ?? []).map((line) => {
    const [pair = "", ...attrs] = line.split(";");
    const eq = pair.indexOf("=");
    const maxAge = attrs.map((a) => /^\s*max-age=(\d+)/i.exec(a)?.[1]).find(Boolean);
    return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), maxAgeS: Number(maxAge ?? 1800) };
  });
}
