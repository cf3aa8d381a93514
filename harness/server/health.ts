import { InfraError } from "../core/errors.ts";

/** Polls `GET <url>/healthz` until it answers 200, or throws an InfraError after `timeoutMs`. */
export async function waitForHealth(url: string, timeoutMs: number, path = "/healthz"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(new URL(path, url), { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).cause ? String((err as Error).cause) : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new InfraError(`OTA server at ${url} did not become healthy (${path}) within ${timeoutMs / 1000}s: ${last}`);
}
