// The device side of the OTA server, shared by the virtual board's firmware (devices/board/) and
// the simulated fleet (harness/fleet/): update check and status on the ota-backend surface,
// activation on the provisioning surface. The board's resumable download is devices/board/download.ts.

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
  return errorCodeOf(await res.text().catch(() => ""), res.statusText);
}

/** The error code in a failed response's body (see errorCode), for callers that read the body themselves. */
export function errorCodeOf(text: string, statusText: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown };
    if (typeof body.code === "string") return body.code;
  } catch {
    // not JSON
  }
  return (text.split("\n")[0] ?? "").trim().slice(0, 80) || statusText;
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
  const r = checkRequest(s, runningSha);
  const res = await fetch(url(s, r.path), { method: r.method, headers: r.headers, signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200 && res.status !== 204) throw new HttpError(res.status, await errorCode(res));
  return parseCheck(res.status, await res.text());
}

/** `POST /provision/activate`: the CIK. */
export async function activate(s: ServerSettings, vendor: string, model: string, timeoutMs: number): Promise<string> {
  const r = activateRequest(s, vendor, model);
  const res = await fetch(url(s, r.path), { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(timeoutMs) });
  return parseCik(res.status, await res.text(), res.statusText);
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
  const r = statusRequest(s, hash, state, message, running);
  if (!r) return;
  try {
    const res = await fetch(url(s, r.path), { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
  } catch {
    // ignored: see above
  }
}

// ---- the requests as plain descriptions ---------------------------------------------------
// The board sends them with fetch (above); the simulated fleet (harness/fleet/) sends the very
// same requests through its own keep-alive pool, so both speak the device API one way.

export interface DeviceRequest {
  method: string;
  /** path and query, to append to the server's base url */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export function activateRequest(s: ServerSettings, vendor: string, model: string): DeviceRequest {
  return {
    method: "POST",
    path: "/provision/activate",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ vendor, model, sn: s.serial }).toString(),
  };
}

export function checkRequest(s: ServerSettings, runningSha: string): DeviceRequest {
  return { method: "POST", path: `/v1/check/${runningSha}`, headers: otaHeaders(s) };
}

/** The whole image; a resuming device adds its own `range` header. */
export function downloadRequest(s: ServerSettings, hash: string): DeviceRequest {
  return { method: "GET", path: `/v1/download/${hash}`, headers: otaHeaders(s) };
}

/**
 * A status report: the ota-backend surface when a firmware id is set, else the provisioning
 * surface with the CIK; undefined with neither. `running`: the image the device runs as it reports.
 */
export function statusRequest(s: ServerSettings, hash: string, state: UpdateState, message: string, running?: string): DeviceRequest | undefined {
  let target: { path: string; headers: Record<string, string> } | undefined;
  if (s.firmwareId) target = { path: "/v1/status", headers: otaHeaders(s) };
  else if (s.cik) target = { path: "/provision/status", headers: { "x-exosite-cik": s.cik } };
  if (!target) return undefined;
  const body = JSON.stringify({ hash, state, message, ...(running ? { running } : {}) });
  return { method: "POST", path: target.path, headers: { ...target.headers, "content-type": "application/json" }, body };
}

/** A check's answer (200 or 204): the hash on offer, or undefined when up to date. */
export function parseCheck(status: number, text: string): string | undefined {
  if (status === 204) return undefined;
  let body: { hash?: unknown } = {};
  try {
    body = JSON.parse(text) as { hash?: unknown };
  } catch {
    // not JSON: below
  }
  if (typeof body.hash !== "string" || !/^[0-9a-f]{64}$/i.test(body.hash)) throw new HttpError(status, "BAD_CHECK_RESPONSE");
  return body.hash.toLowerCase();
}

/** An activation's answer: the CIK, or HttpError with the first line of what the server said. */
export function parseCik(status: number, body: string, statusText = ""): string {
  const text = body.trim();
  if (status !== 200) throw new HttpError(status, (text.split("\n")[0] ?? "").slice(0, 80) || statusText);
  if (!/^[0-9a-f]{40}$/i.test(text)) throw new HttpError(status, "response is not a 40-hex CIK");
  return text.toLowerCase();
}
