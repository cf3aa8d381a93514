// The one HTTP helper of the OTA clients: node:http(s), streamed bodies both ways, and errors
// that carry the HTTP status and the server's error code.
import { createWriteStream } from "node:fs";
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InfraError, TestFailure } from "../core/errors.ts";

/** The server answered with an unexpected status. */
export class OtaHttpError extends TestFailure {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    /** the server's error code (`INVALID_AUTH`, `E401-2`, …), when its body had one */
    readonly code: string | undefined,
    readonly serverMessage: string | undefined,
  ) {
    super(`${method} ${redact(url)} -> ${status}${code ? ` ${code}` : ""}${serverMessage ? `: ${serverMessage}` : ""}`);
  }
}

/** The server could not be reached at all. */
export class OtaConnectionError extends InfraError {}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string | Readable;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Sends a request and resolves with the response once its head arrives. */
function send(req: HttpRequest): Promise<IncomingMessage> {
  const url = new URL(req.url);
  const mod = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    if (Buffer.isBuffer(req.body) || typeof req.body === "string") headers["content-length"] ??= Buffer.byteLength(req.body);
    const r = mod.request(url, { method: req.method, headers }, resolve);
    r.setTimeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => r.destroy(new Error(`no answer within ${req.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)));
    r.on("error", (err) => reject(new OtaConnectionError(`${req.method} ${redact(req.url)}: ${err.message}`, { cause: err })));
    if (req.body instanceof Readable) {
      req.body.on("error", (err) => r.destroy(err));
      req.body.pipe(r);
    } else r.end(req.body);
  });
}

/** A request whose response body is read whole (JSON, text, small ranges). */
export async function request(req: HttpRequest): Promise<HttpResponse> {
  const res = await send(req);
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** A request whose 2xx response body streams into a file; other bodies are read for the error. */
export async function requestToFile(req: HttpRequest, file: string): Promise<Omit<HttpResponse, "body"> & { bytes: number; body: Buffer }> {
  const res = await send(req);
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300 || req.method === "HEAD") {
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    return { status, headers: res.headers, body: Buffer.concat(chunks), bytes: 0 };
  }
  let bytes = 0;
  res.on("data", (c: Buffer) => (bytes += c.length));
  await pipeline(res, createWriteStream(file));
  return { status, headers: res.headers, body: Buffer.alloc(0), bytes };
}

/** Throws OtaHttpError unless the status is one of `ok`. */
export function expectStatus(req: HttpRequest, res: { status: number; body: Buffer }, ok: number[]): void {
  if (ok.includes(res.status)) return;
  let code: string | undefined;
  let message: string | undefined;
  const text = res.body.toString("utf8").trim();
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === "string") code = parsed.code;
    if (typeof parsed.message === "string") message = parsed.message;
  } catch {
    message = text.slice(0, 200) || undefined;
  }
  throw new OtaHttpError(req.method, req.url, res.status, code, message);
}

export function json<T>(res: HttpResponse): T {
  return JSON.parse(res.body.toString("utf8")) as T;
}

export function joinUrl(base: string, pathWithQuery: string): string {
  return base.replace(/\/+$/, "") + pathWithQuery;
}

/** Query strings may hold upload-URL signatures: never put them in messages. */
function redact(url: string): string {
  const i = url.indexOf("?");
  return i < 0 ? url : `${url.slice(0, i)}?…`;
}

/** A byte range as the clients take it: `{ start, end? }` or `{ suffix }`. */
export type ByteRange = { start: number; end?: number } | { suffix: number };

export function rangeHeader(r: ByteRange): string {
  return "suffix" in r ? `bytes=-${r.suffix}` : `bytes=${r.start}-${r.end ?? ""}`;
}
