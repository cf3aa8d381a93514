// One error type for every route; each API surface renders it in its own documented shape.
import type { ServerResponse } from "node:http";

export type ErrorStyle = "backend" | "vendor" | "text";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** why, for the server's log only (never sent: auth failures give the caller one answer) */
    readonly logReason?: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** 204 / 205 carry no body at all. */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}

/**
 * ota-backend: `{"error":<status>,"code":"…","message":"…"}` (seed 001, issue 3);
 * signed vendor API: `{"code":"E401-1","message":"…"}`;
 * provisioning device side: plain text, as the device firmware parses it.
 */
export function sendError(res: ServerResponse, err: HttpError, style: ErrorStyle): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (style === "backend") sendJson(res, err.status, { error: err.status, code: err.code, message: err.message }, err.headers);
  else if (style === "vendor") sendJson(res, err.status, { code: err.code, message: err.message }, err.headers);
  else sendText(res, err.status, `${err.message}\n`, err.headers);
}
