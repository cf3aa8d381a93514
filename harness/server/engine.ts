// The container engine, spoken to directly over its HTTP API (no docker CLI, no testcontainers):
// a fast "is an engine there?" check for `server: { mode: auto }`, and the few queries the
// container mode needs outside testcontainers (image exists, list/remove labelled containers).
//
// The endpoint follows DOCKER_HOST like docker and testcontainers do: `unix:///path`,
// `tcp://host:port` (https with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), default
// `unix:///var/run/docker.sock`.
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

export type EngineEndpoint =
  | { kind: "unix"; socketPath: string }
  | { kind: "tcp"; host: string; port: number; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer } };

/** Where the engine API is, from DOCKER_HOST (else the default socket); undefined for schemes we cannot speak (ssh, npipe). */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint | undefined {
  const raw = env.DOCKER_HOST?.trim();
  if (!raw) return { kind: "unix", socketPath: DEFAULT_DOCKER_SOCKET };
  if (raw.startsWith("unix://")) return { kind: "unix", socketPath: raw.slice("unix://".length) };
  if (raw.startsWith("/")) return { kind: "unix", socketPath: raw };
  if (raw.startsWith("tcp://") || raw.startsWith("http://") || raw.startsWith("https://")) {
    let url: URL;
    try {
      url = new URL(raw.replace(/^tcp:/, "http:"));
    } catch {
      return undefined;
    }
    const verify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== "" && env.DOCKER_TLS_VERIFY !== "0";
    const useTls = verify || url.protocol === "https:" || url.port === "2376";
    const endpoint: EngineEndpoint = { kind: "tcp", host: url.hostname, port: Number(url.port || (useTls ? 2376 : 2375)) };
    if (useTls) {
      const dir = env.DOCKER_CERT_PATH || path.join(homedir(), ".docker");
      const read = (f: string) => {
        try {
          return readFileSync(path.join(dir, f));
        } catch {
          return undefined;
        }
      };
      const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
      const ca = read("ca.pem");
      const cert = read("cert.pem");
      const key = read("key.pem");
      if (ca) tls.ca = ca;
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
      endpoint.tls = tls;
    }
    return endpoint;
  }
  return undefined;
}

export interface EngineResponse<T = unknown> {
  status: number;
  /** parsed JSON when the engine answered JSON, else the raw text */
  body: T;
}

export class EngineUnreachable extends Error {}

/**
 * One request to the engine API. Throws EngineUnreachable when nothing answers (no socket,
 * refused, timeout); any HTTP status is returned, not thrown.
 */
export function engineRequest<T = unknown>(
  method: string,
  apiPath: string,
  options: { body?: unknown; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<EngineResponse<T>> {
  const endpoint = engineEndpoint(options.env);
  if (!endpoint) return Promise.reject(new EngineUnreachable(`unsupported DOCKER_HOST "${options.env?.DOCKER_HOST ?? process.env.DOCKER_HOST}"`));
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: "docker" };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    }
    const common = { method, path: apiPath, headers };
    const req =
      endpoint.kind === "unix"
        ? http.request({ ...common, socketPath: endpoint.socketPath })
        : endpoint.tls
          ? https.request({ ...common, host: endpoint.host, port: endpoint.port, ...endpoint.tls })
          : http.request({ ...common, host: endpoint.host, port: endpoint.port });
    const timer = setTimeout(() => req.destroy(new EngineUnreachable(`no answer from the container engine within ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err instanceof EngineUnreachable ? err : new EngineUnreachable(`container engine unreachable: ${err.message}`, { cause: err }));
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err) => {
        clearTimeout(timer);
        reject(new EngineUnreachable(`container engine answer broken off: ${err.message}`, { cause: err }));
      });
      res.on("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        if ((res.headers["content-type"] ?? "").includes("json") && text) {
          try {
            body = JSON.parse(text);
          } catch {
            /* keep the text */
          }
        }
        resolve({ status: res.statusCode ?? 0, body: body as T });
      });
    });
    req.end(payload);
  });
}

/** True when a container engine answers `GET /_ping` with 200 within `timeoutMs` (default 2 s). Never throws. */
export async function containerEngineAvailable(options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<boolean> {
  try {
    const res = await engineRequest("GET", "/_ping", { timeoutMs: options.timeoutMs ?? 2000, ...(options.env ? { env: options.env } : {}) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Human-readable engine address, for messages. */
export function describeEngine(env: NodeJS.ProcessEnv = process.env): string {
  const e = engineEndpoint(env);
  if (!e) return `DOCKER_HOST=${env.DOCKER_HOST}`;
  return e.kind === "unix" ? `unix://${e.socketPath}` : `${e.tls ? "https" : "tcp"}://${e.host}:${e.port}`;
}

/** Subset of the engine's container list entry that otarig reads. */
export interface EngineContainer {
  Id: string;
  Names?: string[];
  Image: string;
  State: string;
  Status?: string;
  /** unix seconds */
  Created?: number;
  Labels: Record<string, string>;
}

/** Containers (running or not) carrying all of `labels` (`key` or `key=value`). */
export async function listContainers(labels: string[]): Promise<EngineContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: labels }));
  const res = await engineRequest<EngineContainer[]>("GET", `/containers/json?all=true&filters=${filters}`);
  if (res.status !== 200) throw new Error(`container engine: listing containers failed (HTTP ${res.status}): ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Force-removes a container and its anonymous volumes; a container already gone is not an error. */
export async function removeContainer(id: string): Promise<void> {
  const res = await engineRequest("DELETE", `/containers/${encodeURIComponent(id)}?force=true&v=true`, { timeoutMs: 30_000 });
  if (res.status === 204 || res.status === 404) return;
  // 409 "removal already in progress" means someone else is doing it.
  if (res.status === 409 && /already in progress/i.test(JSON.stringify(res.body))) return;
  throw new Error(`container engine: removing container ${id.slice(0, 12)} failed (HTTP ${res.status}): ${JSON.stringify(res.body)}`);
}

/** True when the engine has an image by this name (tag or id). */
export async function imageExists(name: string): Promise<boolean> {
  const res = await engineRequest("GET", `/images/${encodeURI(name)}/json`);
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw new Error(`container engine: inspecting image ${name} failed (HTTP ${res.status}): ${JSON.stringify(res.body)}`);
}

/**
 * testcontainers reads these when it first talks to the engine (not at import): with no registry
 * its reaper image (Ryuk) cannot be pulled, so otarig removes its containers by label itself, and
 * mapped ports are reached on 127.0.0.1. A value the user set is kept.
 */
export function ensureTestcontainersEnv(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
}
