// The reference OTA server as a library: `startServer(config)` opens the data directory,
// listens, and returns the URL and a clean `close()`. server/main.ts is the process around it.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BlobStore } from "./blobs.ts";
import {
  DEFAULT_ANONYMOUS_LIMIT,
  DEFAULT_AUTH_FAILURE_LIMIT,
  DEFAULT_BODY_IDLE_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PORTAL_SESSION_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  isLoopback,
  type ServerConfig,
} from "./config.ts";
import type { App } from "./context.ts";
import { Store } from "./db.ts";
import { HttpError, sendError, sendJson, type ErrorStyle } from "./http/errors.ts";
import { match, route, type Ctx, type Route } from "./http/router.ts";
import { hasBody, watchBodyIdle } from "./http/body-idle.ts";
import { AuthLimits } from "./http/rate-limit.ts";
import { Logger } from "./log.ts";
import { setSecurityHeaders } from "./portal/respond.ts";
import { portalRoutes } from "./portal/routes.ts";
import { SessionStore } from "./portal/session.ts";
import { backendRoutes } from "./routes/backend.ts";
import { provisionRoutes } from "./routes/provision.ts";
import { ReplayGuard } from "./routes/replay-guard.ts";
import { statusRoutes } from "./routes/status.ts";
import { vendorRoutes } from "./routes/vendor.ts";
import { SERVER_VERSION } from "./version.ts";

export type { ServerConfig } from "./config.ts";
export { configFromEnv } from "./config.ts";

export interface RunningServer {
  /** `http://HOST:PORT` with the port actually bound */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** How long running requests (downloads) may finish after close() before they are cut. */
const CLOSE_GRACE_MS = 3000;

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const blobs = new BlobStore(config.dataDir);
  await blobs.init();
  const store = new Store(config.dataDir);
  const now = config.now ?? Date.now;
  const log = new Logger(config.log);
  const app: App = {
    config,
    store,
    blobs,
    log,
    now,
    uploadKey: store.persistentSecret("upload_url_key"),
    portalKey: store.persistentSecret("portal_csrf_key"),
    limits: new AuthLimits(config.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT, config.trustedProxies),
    replays: new ReplayGuard(),
    portalSessions: new SessionStore(config.portalSessionMs ?? DEFAULT_PORTAL_SESSION_MS),
  };

  const routes: Route[] = [
    route(["GET", "HEAD"], "/healthz", "backend", (ctx) => sendJson(ctx.res, 200, { ok: true, version: SERVER_VERSION })),
    ...backendRoutes(app),
    ...statusRoutes(app),
    ...vendorRoutes(app),
    ...provisionRoutes(app),
    ...portalRoutes(app),
  ];

  // Deadlines for slow or stalled clients; a download being sent is not bounded by them.
  const headersTimeout = config.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(headersTimeout, config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  const server = createServer(
    // the deadlines are checked every quarter of the header deadline (Node's default is 30 s)
    { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(100, headersTimeout / 4)) },
    (req, res) => {
      void handle(app, routes, req, res);
    },
  );
  limitConnections(server, config.maxConnections ?? DEFAULT_MAX_CONNECTIONS, log);
  if (!config.secret && !isLoopback(config.host)) {
    const cap = config.anonymousLimit ?? DEFAULT_ANONYMOUS_LIMIT;
    log.warn("OTA_SECRET is unset on a non-loopback address: anyone who reaches the server can create firmware and upload it", {
      host: config.host,
      anonymous_firmware_max: cap.firmware,
      anonymous_bytes_max: cap.bytes,
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      server.close(() => {
        clearTimeout(force);
        store.close();
        resolve();
      });
      server.closeIdleConnections();
    }));

  return { url, port, close };
}

/** Past `max` open connections new ones are closed at once; a warning says so (at most every 10 s). */
function limitConnections(server: Server, max: number, log: Logger): void {
  server.maxConnections = max;
  let dropped = 0;
  let lastLine = -Infinity;
  server.on("drop", () => {
    dropped++;
    const now = Date.now();
    if (now - lastLine < 10_000) return;
    lastLine = now;
    log.warn("connection limit reached: new connections are closed (OTA_MAX_CONNECTIONS)", { max_connections: max, dropped });
    dropped = 0;
  });
}

const isPortalPath = (pathname: string): boolean => pathname === "/portal" || pathname.startsWith("/portal/");

/** Which error shape a path gets when no route matched it. */
function styleForPath(pathname: string): ErrorStyle {
  if (pathname.startsWith("/ota/") || pathname.startsWith("/provision/manage/")) return "vendor";
  if (pathname.startsWith("/provision/") || pathname.startsWith("/portal/")) return "text";
  return "backend";
}

// Request ids: a random per-process prefix plus a counter, shaped like a UUID (v4 bits set),
// unique within a server run and far cheaper than randomUUID() per request.
const ID_PREFIX = (() => {
  const b = randomBytes(10);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-`;
})();
let idCounter = 0;

function nextRequestId(): string {
  return ID_PREFIX + (++idCounter).toString(16).padStart(12, "0");
}

/** Paths the URL parser would hand back unchanged: no dots, escapes or odd characters. */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_~\-/]*$/;

function parseTarget(target: string): URL {
  try {
    return new URL(target.startsWith("/") ? target : `/${target}`, "http://server.invalid");
  } catch {
    return new URL("http://server.invalid/");
  }
}

async function handle(app: App, routes: Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const requestId = nextRequestId();
  res.setHeader("x-request-id", requestId);
  const target = req.url ?? "/";
  // The full URL is parsed only when a route asks for it (query strings); plain paths skip it.
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  let parsed: URL | undefined;
  const pathname = PLAIN_PATH.test(rawPath) ? rawPath : (parsed = parseTarget(target)).pathname;
  const ctx: Ctx = {
    req,
    res,
    get url(): URL {
      return (parsed ??= parseTarget(target));
    },
    target,
    params: {},
    requestId,
    now: app.now(),
    logFields: {},
  };
  res.once("close", () => {
    // Path only: query strings may carry upload-URL signatures.
    app.log.info("request", {
      request_id: requestId,
      method: req.method,
      path: pathname,
      status: res.statusCode,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...ctx.logFields,
      ...(res.writableFinished ? {} : { aborted: true }),
    });
  });

  const found = match(routes, req.method ?? "GET", pathname);
  const style = found && "route" in found ? found.route.style : found ? found.methodNotAllowed.style : styleForPath(pathname);
  watchBodyIdle(req, res, app.config.bodyIdleMs ?? DEFAULT_BODY_IDLE_MS, () => {
    ctx.logFields.reason = "request body stalled";
    if (res.headersSent) return void req.socket.destroy();
    res.setHeader("connection", "close");
    sendError(res, vendorCode(new HttpError(408, "BODY_TIMEOUT", "request body stalled: no bytes for too long"), style), style);
  });
  try {
    if (!found) throw new HttpError(404, "NOT_FOUND", `no endpoint ${req.method} ${pathname}`);
    if (!("route" in found)) {
      throw new HttpError(405, "METHOD_NOT_ALLOWED", `${req.method} not allowed on ${pathname}`, {
        allow: found.methodNotAllowed.methods.join(", "),
      });
    }
    ctx.params = found.params;
    await found.route.handler(ctx);
  } catch (err) {
    const httpErr =
      err instanceof HttpError ? err : new HttpError(500, style === "vendor" ? "E500-1" : "INTERNAL", "internal server error");
    if (httpErr.logReason) ctx.logFields.reason = httpErr.logReason;
    // A client that went away mid-body is the request line's `aborted`, not a server error.
    const clientGone = !req.complete && (req.destroyed || req.socket.destroyed);
    if (!(err instanceof HttpError) && !clientGone) app.log.error("handler failed", { request_id: requestId, path: pathname, error: String(err) });
    // An error answered before the body was read: do not keep reading a possibly huge upload.
    if (hasBody(req) && !req.complete && !res.headersSent) res.setHeader("connection", "close");
    if (isPortalPath(pathname) && !res.headersSent) setSecurityHeaders(res);
    sendError(res, vendorCode(httpErr, style), style);
  }
}

/** The vendor API's codes look like `E401-1`; map generic codes onto that shape. */
function vendorCode(err: HttpError, style: ErrorStyle): HttpError {
  if (style !== "vendor" || /^E\d{3}-\d+$/.test(err.code)) return err;
  return new HttpError(err.status, `E${err.status}-0`, err.message, err.headers);
}
