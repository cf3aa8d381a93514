// The firmware's HTTP client for the OTA server: update check and status on the ota-backend
// surface, activation on the provisioning surface. Downloading is in download.ts.

export interface ServerSettings {
  server: string;
  firmwareId?: string;
  secret?: string;
  serial: string;
  cik?: string;
}

/** An HTTP answer the firmware did not want: status plus the server's error code when it gave one. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`${status} ${code}`.trim());
  }
}

export function otaHeaders(s: ServerSettings): Record<string, string> {
  const headers: Record<string, string> = { "x-ota-device-id": s.serial };
  if (s.firmwareId) headers["x-ota-firmware-id"] = s.firmwareId;
  if (s.secret) headers["x-ota-secret"] = s.secret;
  // An activated device proves who it is with its CIK (models with require_activation insist).
  if (s.cik) headers["x-exosite-cik"] = s.cik;
  return headers;
}

export function url(s: ServerSettings, path: string): string {
  return `${s.server.replace(/\/+$/, "")}${path}`;
}

/** The error code of a failed response: JSON `code`, else the first bit of the text, else the status text. */
export async function errorCode(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { code?: unknown };
    if (typeof body.code === "string") return body.code;
  } catch {
    // not JSON
  }
  return (text.split("\n")[0] ?? "").trim().slice(0, 80) || res.statusText;
}

/** A one-line reason for a failed fetch: the socket error code where there is one. */
export function networkReason(err: unknown): string {
  if (err instanceof HttpError) return err.message;
  if (err instanceof Error) {
    if (err.name === "TimeoutError" || err.name === "AbortError") return "network error: timed out";
    const cause = err.cause as { code?: string; message?: string } | undefined;
    return `network error: ${cause?.code ?? cause?.message ?? err.message}`;
  }
  return `network error: ${String(err)}`;
}

/** `POST /v1/check/<running hash>`: the hash on offer, or undefined when up to date. */
export async function checkForUpdate(s: ServerSettings, runningSha: string, timeoutMs: number): Promise<string | undefined> {
  const res = await fetch(url(s, `/v1/check/${runningSha}`), { method: "POST", headers: otaHeaders(s), signal: AbortSignal.timeout(timeoutMs) });
  if (res.status === 204) return undefined;
  if (res.status !== 200) throw new HttpError(res.status, await errorCode(res));
  const body = (await res.json()) as { hash?: unknown };
  if (typeof body.hash !== "string" || !/^[0-9a-f]{64}$/i.test(body.hash)) throw new HttpError(res.status, "BAD_CHECK_RESPONSE");
  return body.hash.toLowerCase();
}

/** `POST /provision/activate`: the CIK. */
export async function activate(s: ServerSettings, vendor: string, model: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url(s, "/provision/activate"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ vendor, model, sn: s.serial }).toString(),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = (await res.text()).trim();
  if (res.status !== 200) throw new HttpError(res.status, (text.split("\n")[0] ?? "").slice(0, 80) || res.statusText);
  if (!/^[0-9a-f]{40}$/i.test(text)) throw new HttpError(res.status, "response is not a 40-hex CIK");
  return text.toLowerCase();
}

/** `trial`: booted the new image, not yet confirmed; `success` only once confirmed (DESIGN §4). */
export type UpdateState = "downloading" | "installing" | "rebooting" | "trial" | "success" | "failure";

/**
 * Best effort, as on a real device: a status the server cannot take (down, or no such endpoint
 * yet) must never fail the update itself. Uses the ota-backend surface when a firmware id is
 * set, else the provisioning surface with the CIK. `running` is the hash of the image the device
 * runs as it reports (the server's record of the device follows it).
 */
export async function reportStatus(s: ServerSettings, hash: string, state: UpdateState, message: string, running?: string, timeoutMs = 2000): Promise<void> {
  let target: { path: string; headers: Record<string, string> } | undefined;
  if (s.firmwareId) target = { path: "/v1/status", headers: otaHeaders(s) };
  else if (s.cik) target = { path: "/provision/status", headers: { "x-exosite-cik": s.cik } };
  if (!target) return;
  try {
    const res = await fetch(url(s, target.path), {
      method: "POST",
      headers: { ...target.headers, "content-type": "application/json" },
      body: JSON.stringify({ hash, state, message, ...(running ? { running } : {}) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
  } catch {
    // ignored: see above
  }
}
