// ALLXON-SIG1 request signing (seeds 003/004), shared by the reference server and the clients.
//
//   SigningKey = Hex(HMAC-SHA256(secret, STR(FLOOR(epoch / 3600000))))
//   Signature  = Hex(HMAC-SHA256(SigningKey, method + pathWithQuery + epoch))
//
// The signing key enters the second HMAC as its lowercase *hex string*, exactly as the seed 000
// sample scripts do (`openssl dgst -hmac "$signing_key"`). The request body is not signed.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIG_ALGORITHM = "ALLXON-SIG1";
export const EPOCH_HEADER = "X-Allxon-Epoch";
const HOUR_MS = 3_600_000;

export function signingKey(secret: string, epochMs: number): string {
  return createHmac("sha256", secret).update(String(Math.floor(epochMs / HOUR_MS))).digest("hex");
}

export function signature(secret: string, method: string, pathWithQuery: string, epochMs: number): string {
  const key = signingKey(secret, epochMs);
  return createHmac("sha256", key).update(`${method.toUpperCase()}${pathWithQuery}${epochMs}`).digest("hex");
}

export function authorizationHeader(keyId: string, sig: string): string {
  return `${SIG_ALGORITHM} Credential="${keyId}",Signature="${sig}"`;
}

export interface SignInput {
  keyId: string;
  secret: string;
  method: string;
  /** the request target as sent: path plus `?query` if any */
  pathWithQuery: string;
  /** milliseconds since the epoch; defaults to now */
  epochMs?: number;
}

/** The two headers a signed request carries. */
export function signRequest(input: SignInput): { Authorization: string; "X-Allxon-Epoch": string } {
  const epoch = input.epochMs ?? Date.now();
  const sig = signature(input.secret, input.method, input.pathWithQuery, epoch);
  return { Authorization: authorizationHeader(input.keyId, sig), "X-Allxon-Epoch": String(epoch) };
}

// Epochs signed per key, method and path in this process (bounded tables, oldest first out).
const usedEpochs = new Map<string, Set<number>>();
const MAX_PATHS = 10_000;
const MAX_EPOCHS_PER_PATH = 1_000;

/**
 * `epochMs`, or the next millisecond after it that this process has not yet signed for the same
 * key, method and path: two requests never share a signature, since a server may refuse a
 * signature it has already seen (the reference server does, for everything but GET).
 */
export function freshEpoch(keyId: string, method: string, pathWithQuery: string, epochMs: number): number {
  const key = `${keyId}\n${method.toUpperCase()}\n${pathWithQuery}`;
  let used = usedEpochs.get(key);
  if (!used) {
    if (usedEpochs.size >= MAX_PATHS) usedEpochs.delete(usedEpochs.keys().next().value!);
    usedEpochs.set(key, (used = new Set()));
  }
  let epoch = epochMs;
  while (used.has(epoch)) epoch++;
  if (used.size >= MAX_EPOCHS_PER_PATH) used.delete(used.values().next().value!);
  used.add(epoch);
  return epoch;
}

/** Parses `ALLXON-SIG1 Credential="id",Signature="hex"`; undefined when malformed. */
export function parseAuthorization(header: string | undefined): { keyId: string; signature: string } | undefined {
  if (!header) return undefined;
  const m = /^\s*ALLXON-SIG1\s+Credential="([^"]+)"\s*,\s*Signature="([0-9a-fA-F]{64})"\s*$/.exec(header);
  if (!m) return undefined;
  return { keyId: m[1]!, signature: m[2]!.toLowerCase() };
}

/** Constant-time comparison of a received signature with the expected one. */
export function signatureMatches(expectedHex: string, receivedHex: string): boolean {
  const a = Buffer.from(expectedHex, "hex");
  const b = Buffer.from(receivedHex, "hex");
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
