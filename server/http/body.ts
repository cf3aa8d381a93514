// Small request bodies (JSON or form) read whole, with a limit; uploads never come through here.
import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.ts";

const SMALL_BODY_LIMIT = 1024 * 1024;

export async function readSmallBody(req: IncomingMessage, limit = SMALL_BODY_LIMIT): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Field values of a JSON object or form body; every value as a list of strings. */
export type Fields = Map<string, string[]>;

export function fieldsFrom(body: Buffer, contentType: string | undefined): Fields {
  const fields: Fields = new Map();
  const text = body.toString("utf8");
  if (text.trim() === "") return fields;
  const add = (k: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    const list = fields.get(k) ?? [];
    list.push(typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v));
    fields.set(k, list);
  };
  // JSON when declared, or when it looks like a JSON object (curl -d defaults to a form type).
  const isJson = /json/i.test(contentType ?? "") || (!/x-www-form-urlencoded/i.test(contentType ?? "") && text.trimStart().startsWith("{"));
  if (isJson) {
    for (const [k, v] of Object.entries(parseJsonObject(text))) {
      if (Array.isArray(v)) for (const item of v) add(k, item);
      else add(k, v);
    }
    return fields;
  }
  for (const [k, v] of new URLSearchParams(text)) add(k, v);
  return fields;
}

export async function readFields(req: IncomingMessage): Promise<Fields> {
  return fieldsFrom(await readSmallBody(req), req.headers["content-type"]);
}

/** Reads a small JSON object body (vendor API). */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readSmallBody(req)).toString("utf8");
  if (text.trim() === "") return {};
  return parseJsonObject(text);
}

function parseJsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HttpError(400, "BAD_REQUEST", "body must be a JSON object");
  return parsed as Record<string, unknown>;
}

export function first(fields: Fields, name: string): string | undefined {
  return fields.get(name)?.[0];
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|1|yes|on)$/i.test(value.trim());
}
