// Before a fleet starts: does the server speak the device API at all? A check without
// credentials must be refused the way the reference server refuses it (401, JSON error with a
// code); a 404 page, a proxy's HTML or no answer means a wrong url, said before N devices hammer it.
import { InfraError } from "../core/errors.ts";

export async function probeDeviceApi(server: string, timeoutMs = 5000): Promise<void> {
  const url = `${server.replace(/\/+$/, "")}/v1/check/${"0".repeat(64)}`;
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, { method: "POST", signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err instanceof Error ? err.message : String(err));
    throw new InfraError(`fleet: the server at ${server} does not answer (${cause}): POST /v1/check/<hash>`);
  }
  let code: unknown;
  try {
    code = (JSON.parse(text) as { code?: unknown }).code;
  } catch {
    // not JSON: below
  }
  if (status !== 401 || typeof code !== "string") {
    throw new InfraError(
      `fleet: the server at ${server} does not speak the device API: POST /v1/check/<hash> without credentials answered ${status} ` +
        `${typeof code === "string" ? code : JSON.stringify(text.slice(0, 80))} (expected 401 with a JSON error code)`,
    );
  }
}
