// Shared setup for the server tests: a real server on 127.0.0.1 with a free port, a fresh data
// directory, two vendors, and a clock the test can move.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, type RunningServer } from "../../server/app.ts";
import { DEFAULT_MAX_UPLOAD, type ServerConfig } from "../../server/config.ts";
import { BackendClient } from "../../harness/ota/backend-client.ts";
import { VendorClient } from "../../harness/ota/vendor-client.ts";
import { OtaHttpError } from "../../harness/ota/http.ts";

export const VENDOR_A = { vendor: "acme", keyId: "AKIDACME", secret: "EPqeEGVcYf6Zpo+6yCqHeoYJSrnDykc9gPShOA==" };
export const VENDOR_B = { vendor: "globex", keyId: "AKIDGLOBEX", secret: "c2VjcmV0LWIK" };

export interface TestServer extends RunningServer {
  dataDir: string;
  clock: { now: number };
  logs: string[];
  backend: BackendClient;
  vendorA: VendorClient;
  vendorB: VendorClient;
  stop(): Promise<void>;
}

const made: string[] = [];
process.once("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = "otarig-server-"): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDir();
  const clock = { now: Date.now() };
  const logs: string[] = [];
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir,
    apiKeys: [VENDOR_A, VENDOR_B],
    activationWindowMs: 24 * 3_600_000,
    maxUploadBytes: DEFAULT_MAX_UPLOAD,
    now: () => clock.now,
    log: (line) => logs.push(line),
    ...overrides,
  });
  const now = (): number => clock.now;
  return {
    ...server,
    dataDir,
    clock,
    logs,
    backend: new BackendClient({ baseUrl: server.url, ...(overrides.secret ? { secret: overrides.secret } : {}) }),
    vendorA: new VendorClient({ baseUrl: server.url, keyId: VENDOR_A.keyId, secret: VENDOR_A.secret, now }),
    vendorB: new VendorClient({ baseUrl: server.url, keyId: VENDOR_B.keyId, secret: VENDOR_B.secret, now }),
    async stop() {
      await server.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw fetch that never throws on status, for asserting exact codes and headers. */
export async function raw(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; body: Buffer }> {
  const res = await fetch(url, init);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, text: body.toString("utf8"), body };
}

export const md5 = (b: Buffer | string): string => createHash("md5").update(b).digest("hex");
export const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** A client call's HTTP outcome: 200, or the status and code of the OtaHttpError it threw. */
export async function statusOf(p: Promise<unknown>): Promise<{ status: number; code?: string }> {
  try {
    await p;
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof OtaHttpError)) throw err;
    return { status: err.status, code: err.code };
  }
}
