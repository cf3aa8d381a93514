// The simulated device against the real server (a process, as `--server process` runs it): a
// plain device updates and confirms; one whose link drops mid-download resumes with Range from
// the byte it had (it fetches the image once, not twice); one presenting a wrong CIK is refused
// and never recorded as updated; one that never confirms reverts, and its deployment fails.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fleet } from "../../harness/fleet/fleet.ts";
import { probeDeviceApi } from "../../harness/fleet/probe.ts";
import { ensureModel, rollOut } from "../../harness/fleet/register.ts";
import { fleetSpec, type Behaviour } from "../../harness/fleet/spec.ts";
import { VendorClient } from "../../harness/ota/vendor-client.ts";
import { startProcessServer } from "../../harness/server/process-server.ts";
import type { OtaServer } from "../../harness/server/types.ts";
import { InfraError } from "../../harness/core/errors.ts";

const IMAGE_BYTES = 300 * 1024 + 123; // not a multiple of the chunk: the last range is short
let dir: string;
let server: OtaServer;
let vendor: VendorClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "otarig-fleet-"));
  server = await startProcessServer({ dataDir: path.join(dir, "data"), onLog: () => {} });
  const key = server.credentials.apiKey!;
  vendor = new VendorClient({ baseUrl: server.url, keyId: key.keyId, secret: key.secret });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, ms: number, holds: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("simulated device against the real server", () => {
  it("updates, resumes a dropped download, is refused with a wrong CIK, reverts an unconfirmed trial", async () => {
    const file = path.join(dir, "image.bin");
    writeFileSync(file, randomBytes(IMAGE_BYTES));
    const artifact = await vendor.uploadArtifact(file);
    const firmwareId = await ensureModel(vendor, "sim");
    const spec = fleetSpec({
      count: 4,
      prefix: "T-",
      timing: { intervalMs: 300, chunkBytes: 64 * 1024, rateBytesPerS: 8 * 1024 * 1024, dropPauseMs: 300, installMs: 20, rebootMs: 20, confirmMs: 20, trialMs: 200 },
    });
    const roles: Behaviour[][] = [[], ["drop"], ["wrong_cik"], ["never_confirm"]];
    const serials = ["T-00001", "T-00002", "T-00003", "T-00004"];
    const deployment = await rollOut(vendor, "sim", serials, artifact.artifactUuid);
    expect(deployment.deployment_accepted).toHaveLength(4);

    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
    const socketsBefore = sockets();
    const fleet = new Fleet({
      spec,
      target: { server: server.url, vendor: key().vendor, model: "sim", firmwareId: String(firmwareId) },
      clock: () => 0,
      assign: (sn) => new Set(roles[serials.indexOf(sn)]),
    });
    try {
      expect(fleet.serials).toEqual(serials);
      const [plain, drop, wrongCik, noConfirm] = fleet.devices;
      await until("every device to settle", 20_000, () => fleet.devices.every((d) => ["updated", "reverted", "rejected", "failed"].includes(d.state)));
      expect(plain!.state).toBe("updated");
      expect(drop!.state).toBe("updated");
      expect(drop!.running).toBe(artifact.sha256);
      expect(drop!.resumedFrom).toHaveLength(1);
      expect(drop!.resumedFrom[0]! % (64 * 1024)).not.toBe(0); // mid-chunk: the next Range starts at the exact byte
      expect(wrongCik!.state).toBe("rejected");
      expect(noConfirm!.state).toBe("reverted");
    } finally {
      await fleet.stop();
    }
    // Stopped: no connection of the fleet's pool is left open.
    await new Promise((r) => setImmediate(r));
    expect(sockets()).toBeLessThanOrEqual(socketsBefore);
    const s = fleet.summary();
    expect(s).toMatchObject({ devices: 4, updated: 2, failed: 0, reverted: 1, rejected: 1, http_5xx: 0 });
    expect(s.errors["401"]).toBeGreaterThanOrEqual(1);
    // Three devices downloaded the image; the dropped one resumed instead of starting over.
    expect(s.bytes).toBeGreaterThanOrEqual(3 * IMAGE_BYTES);
    expect(s.bytes).toBeLessThan(3 * IMAGE_BYTES + 64 * 1024);
    expect(s.check_p99_ms).toBeGreaterThan(0);

    // The server's record agrees: updated devices run the artifact, the revert failed its deployment.
    const status = new Map((await vendor.deploymentStatus(deployment.deployment_id)).map((r) => [r.device_sn, r.deployment_status]));
    expect(Object.fromEntries(status)).toEqual({ "T-00001": "success", "T-00002": "success", "T-00003": "processing", "T-00004": "failed" });
    expect((await vendor.device("T-00002"))[0]?.current_hash).toBe(artifact.sha256);
    expect((await vendor.device("T-00003"))[0]?.current_hash).not.toBe(artifact.sha256);
    // The revert: its last report says it runs the old image again, and the server follows it.
    const reverted = (await vendor.device("T-00004"))[0];
    expect(reverted?.state).toBe("failure");
    expect(reverted?.current_hash).not.toBe(artifact.sha256);
  }, 60_000);

  it("tells a server that does not speak the device API (an infrastructure error)", async () => {
    await expect(probeDeviceApi(server.url)).resolves.toBeUndefined();
    await expect(probeDeviceApi(`${server.url}/portal`)).rejects.toThrow(InfraError);
    await expect(probeDeviceApi("http://127.0.0.1:9")).rejects.toThrow(/does not answer/);
  });
});

function key() {
  return server.credentials.apiKey!;
}
