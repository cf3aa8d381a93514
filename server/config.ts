// Server settings, read from the environment (DESIGN §4, issue 3 "Configuration").
import path from "node:path";

export interface ApiKey {
  vendor: string;
  keyId: string;
  secret: string;
}

export interface ServerConfig {
  host: string;
  /** 0 picks a free port */
  port: number;
  /** when set, every ota-backend request must carry it in `x-ota-secret` */
  secret?: string;
  dataDir: string;
  apiKeys: ApiKey[];
  /** base of pre-signed upload URLs; default: the Host the request came in on */
  publicUrl?: string;
  activationWindowMs: number;
  maxUploadBytes: number;
  /** how long a portal sign-in lasts (default 30 min) */
  portalSessionMs?: number;
  /** failed sign-ins / vendor signatures one client address may make per window before 429 */
  authFailureLimit?: { count: number; windowMs: number };
  /** whole-request and header deadlines of the HTTP server (slow clients are cut off) */
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** a request body may pause this long between bytes (small JSON/form bodies) */
  bodyIdleMs?: number;
  /** the same for uploads (a slow link still works: an idle time, not a total) */
  uploadIdleMs?: number;
  /** open connections at most; past it new ones are closed at once (and logged) */
  maxConnections?: number;
  /** reverse proxies whose X-Forwarded-For names the client (rate limits); none by default */
  trustedProxies?: string[];
  /** without OTA_SECRET on a non-loopback address: anonymous (`/v1/create`) firmware at most */
  anonymousLimit?: { firmware: number; bytes: number };
  /** the server's clock (tests move it); default Date.now */
  now?: () => number;
  /** where log lines go; default stdout */
  log?: (line: string) => void;
}

export const DEFAULT_MAX_UPLOAD = 2 * 1024 ** 3;
export const DEFAULT_ACTIVATION_WINDOW_MS = 24 * 3_600_000;
export const DEFAULT_PORTAL_SESSION_MS = 30 * 60_000;
export const DEFAULT_AUTH_FAILURE_LIMIT = { count: 20, windowMs: 60_000 };
// Uploads of big images on slow links must fit in the request deadline; headers come at once.
export const DEFAULT_REQUEST_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_BODY_IDLE_MS = 10_000;
export const DEFAULT_UPLOAD_IDLE_MS = 2 * 60_000;
export const DEFAULT_MAX_CONNECTIONS = 4096;
export const DEFAULT_ANONYMOUS_LIMIT = { firmware: 100, bytes: 4 * 1024 ** 3 };

/** Loopback listen addresses: only this machine can reach the server. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || /^127\./.test(host) || host === "::1" || host === "[::1]";
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `24h` (a bare number is seconds). */
export function parseWindow(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) throw new Error(`OTA_ACTIVATION_WINDOW: not a duration: "${value}" (expected e.g. 90s, 15m, 24h)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? "s"]!);
}

function parseDuration(name: string, value: string): number {
  try {
    return parseWindow(value);
  } catch {
    throw new Error(`${name}: not a duration: "${value}" (expected e.g. 90s, 15m, 1h)`);
  }
}

/** `20/1m`: at most 20 failures per minute per client address. */
export function parseRate(value: string): { count: number; windowMs: number } {
  const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value);
  if (!m || Number(m[1]) < 1) throw new Error(`OTA_AUTH_FAILURES: not a rate: "${value}" (expected e.g. 20/1m)`);
  return { count: Number(m[1]), windowMs: parseDuration("OTA_AUTH_FAILURES", m[2]!) };
}

/** `2147483648`, `512k`, `100M`, `2G` (binary units). */
export function parseSize(value: string, name = "OTA_MAX_UPLOAD"): number {
  const m = /^\s*(\d+)\s*([kmg])?i?b?\s*$/i.exec(value);
  if (!m) throw new Error(`${name}: not a size: "${value}" (expected bytes, or e.g. 100M, 2G)`);
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? "").toLowerCase() as "k" | "m" | "g"] ?? 1;
  return Number(m[1]) * mult;
}

function parseCount(name: string, value: string): number {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: not a positive whole number: "${value}"`);
  return n;
}

/** `vendor:keyId:secret,…`; the short form `keyId:secret` makes the key id its own vendor. */
export function parseApiKeys(value: string): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const item of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const parts = item.split(":");
    if (parts.length < 2) throw new Error(`OTA_API_KEYS: entry ${keys.length + 1} is not vendor:keyId:secret`);
    // A secret may itself contain ':' only in the three-part form's last field.
    const [vendor, keyId, secret] =
      parts.length === 2 ? [parts[0]!, parts[0]!, parts[1]!] : [parts[0]!, parts[1]!, parts.slice(2).join(":")];
    if (!vendor || !keyId || !secret) throw new Error(`OTA_API_KEYS: entry ${keys.length + 1} has an empty field`);
    keys.push({ vendor, keyId, secret });
  }
  return keys;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = Number(env.BACKEND_PORT ?? "1337");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`BACKEND_PORT: not a port: "${env.BACKEND_PORT}"`);
  const config: ServerConfig = {
    host: env.BACKEND_HOST || "127.0.0.1",
    port,
    dataDir: path.resolve(env.OTA_DATA_DIR || "./.otarig/server-data"),
    apiKeys: parseApiKeys(env.OTA_API_KEYS ?? ""),
    activationWindowMs: env.OTA_ACTIVATION_WINDOW ? parseWindow(env.OTA_ACTIVATION_WINDOW) : DEFAULT_ACTIVATION_WINDOW_MS,
    maxUploadBytes: env.OTA_MAX_UPLOAD ? parseSize(env.OTA_MAX_UPLOAD) : DEFAULT_MAX_UPLOAD,
  };
  if (env.OTA_SECRET) config.secret = env.OTA_SECRET;
  if (env.OTA_PORTAL_SESSION) config.portalSessionMs = parseDuration("OTA_PORTAL_SESSION", env.OTA_PORTAL_SESSION);
  if (env.OTA_REQUEST_TIMEOUT) config.requestTimeoutMs = parseDuration("OTA_REQUEST_TIMEOUT", env.OTA_REQUEST_TIMEOUT);
  if (env.OTA_AUTH_FAILURES) config.authFailureLimit = parseRate(env.OTA_AUTH_FAILURES);
  if (env.OTA_BODY_IDLE) config.bodyIdleMs = parseDuration("OTA_BODY_IDLE", env.OTA_BODY_IDLE);
  if (env.OTA_UPLOAD_IDLE) config.uploadIdleMs = parseDuration("OTA_UPLOAD_IDLE", env.OTA_UPLOAD_IDLE);
  if (env.OTA_MAX_CONNECTIONS) config.maxConnections = parseCount("OTA_MAX_CONNECTIONS", env.OTA_MAX_CONNECTIONS);
  if (env.OTA_TRUSTED_PROXIES) config.trustedProxies = env.OTA_TRUSTED_PROXIES.split(",").map((s) => s.trim()).filter(Boolean);
  if (env.OTA_ANON_FIRMWARE_MAX || env.OTA_ANON_BYTES_MAX) {
    config.anonymousLimit = {
      firmware: env.OTA_ANON_FIRMWARE_MAX ? parseCount("OTA_ANON_FIRMWARE_MAX", env.OTA_ANON_FIRMWARE_MAX) : DEFAULT_ANONYMOUS_LIMIT.firmware,
      bytes: env.OTA_ANON_BYTES_MAX ? parseSize(env.OTA_ANON_BYTES_MAX, "OTA_ANON_BYTES_MAX") : DEFAULT_ANONYMOUS_LIMIT.bytes,
    };
  }
  if (env.OTA_PUBLIC_URL) config.publicUrl = env.OTA_PUBLIC_URL.replace(/\/+$/, "");
  return config;
}
