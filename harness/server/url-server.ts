// A server someone already runs: the harness only checks it answers, and never stops it.
import { waitForHealth } from "./health.ts";
import type { OtaServer, ServerCredentials } from "./types.ts";

export async function attachUrlServer(url: string, credentials: ServerCredentials, healthPath = "/healthz"): Promise<OtaServer> {
  await waitForHealth(url, 10_000, healthPath);
  return {
    mode: "url",
    url: url.replace(/\/+$/, ""),
    credentials,
    async stop() {},
    async start() {},
  };
}
