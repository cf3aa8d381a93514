// The signed vendor API: ALLXON-SIG1 verification (window edges, hour boundary), artifacts in
// three steps with Content-MD5, deployments and their status, and vendor isolation.
import { createHash } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentMd5 } from "../../harness/ota/digest.ts";
import { OtaHttpError } from "../../harness/ota/http.ts";
import { ProvisionClient } from "../../harness/ota/provision-client.ts";
import { signRequest } from "../../harness/ota/signer.ts";
import { VendorClient } from "../../harness/ota/vendor-client.ts";
import { raw, startTestServer, tempDir, VENDOR_A, type TestServer } from "./helpers.ts";

const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const HOUR = 3_600_000;

async function statusOf(p: Promise<unknown>): Promise<{ status: number; code: string | undefined }> {
  try {
    await p;
    return { status: 200, code: undefined };
  } catch (err) {
    if (!(err instanceof OtaHttpError)) throw err;
    return { status: err.status, code: err.code };
  }
}

describe("signed vendor API", () => {
  let s: TestServer;
  const dir = tempDir("otarig-art-");
  const data = Buffer.from("artifact payload ".repeat(5000));
  const file = path.join(dir, "fw-2.0.0.tar.gz");

  beforeAll(async () => {
    writeFileSync(file, data);
    s = await startTestServer();
  });
  afterAll(() => s.stop());

  /** A client whose epoch is `offset` ms away from the server clock. */
  const skewed = (offset: number) =>
    new VendorClient({ baseUrl: s.url, keyId: VENDOR_A.keyId, secret: VENDOR_A.secret, now: () => s.clock.now + offset });

  describe("ALLXON-SIG1 verification", () => {
    it("accepts epochs exactly 10 minutes early or late and rejects 1 ms beyond (E401-3)", async () => {
      const tenMin = 10 * 60_000;
      expect((await statusOf(skewed(-tenMin).createArtifact("a.bin", md5(data)))).status).toBe(200);
      expect((await statusOf(skewed(+tenMin).createArtifact("a.bin", md5(data)))).status).toBe(200);
      expect(await statusOf(skewed(-tenMin - 1).createArtifact("a.bin", md5(data)))).toEqual({ status: 401, code: "E401-3" });
      expect(await statusOf(skewed(+tenMin + 1).createArtifact("a.bin", md5(data)))).toEqual({ status: 401, code: "E401-3" });
    });

    it("derives the key from the request's own epoch hour across an hour boundary", async () => {
      const saved = s.clock.now;
      try {
        // Server clock 2 minutes into an hour; the client signs 5 minutes earlier, in the previous hour.
        s.clock.now = Math.floor(saved / HOUR) * HOUR + 2 * 60_000;
        expect((await statusOf(skewed(-5 * 60_000).createArtifact("a.bin", md5(data)))).status).toBe(200);
        // And the other way: server just before the hour, client just after it.
        s.clock.now = Math.floor(saved / HOUR) * HOUR + HOUR - 60_000;
        expect((await statusOf(skewed(+3 * 60_000).createArtifact("a.bin", md5(data)))).status).toBe(200);
        // A signature made with the server's hour key but the client's (previous-hour) epoch fails.
        s.clock.now = Math.floor(saved / HOUR) * HOUR + 60_000;
        const epoch = s.clock.now - 2 * 60_000;
        const good = signRequest({ ...VENDOR_A, method: "POST", pathWithQuery: "/ota/artifact", epochMs: epoch });
        const wrongHour = signRequest({ ...VENDOR_A, method: "POST", pathWithQuery: "/ota/artifact", epochMs: s.clock.now });
        const body = JSON.stringify({ artifact_name: "x.bin", artifact_md5: md5(data) });
        const headers = { "content-type": "application/json", "X-Allxon-Epoch": String(epoch) };
        const ok = await raw(`${s.url}/ota/artifact`, { method: "POST", headers: { ...headers, Authorization: good.Authorization }, body });
        expect(ok.status).toBe(200);
        const bad = await raw(`${s.url}/ota/artifact`, { method: "POST", headers: { ...headers, Authorization: wrongHour.Authorization }, body });
        expect(bad.status).toBe(401);
        expect(JSON.parse(bad.text)).toEqual({ code: "E401-2", message: expect.any(String) });
      } finally {
        s.clock.now = saved;
      }
    });

    it("rejects missing, malformed, unknown-key and wrong-secret requests with 401 E401-*", async () => {
      const body = JSON.stringify({ artifact_name: "x.bin", artifact_md5: md5(data) });
      const none = await raw(`${s.url}/ota/artifact`, { method: "POST", body });
      expect(none.status).toBe(401);
      expect(JSON.parse(none.text).code).toBe("E401-1");
      expect(none.headers.get("x-request-id")).toBeTruthy();
      const h = signRequest({ ...VENDOR_A, method: "POST", pathWithQuery: "/ota/artifact", epochMs: s.clock.now });
      const noEpoch = await raw(`${s.url}/ota/artifact`, { method: "POST", headers: { Authorization: h.Authorization }, body });
      expect(JSON.parse(noEpoch.text).code).toBe("E401-1");
      const unknown = new VendorClient({ baseUrl: s.url, keyId: "NOPE", secret: VENDOR_A.secret, now: () => s.clock.now });
      expect(await statusOf(unknown.createArtifact("x.bin", md5(data)))).toEqual({ status: 401, code: "E401-2" });
      const wrong = new VendorClient({ baseUrl: s.url, keyId: VENDOR_A.keyId, secret: "wrong", now: () => s.clock.now });
      expect(await statusOf(wrong.createArtifact("x.bin", md5(data)))).toEqual({ status: 401, code: "E401-2" });
    });

    it("signs the path with its query: a changed query fails", async () => {
      const epoch = s.clock.now;
      const h = signRequest({ ...VENDOR_A, method: "GET", pathWithQuery: "/ota/deployment/x/all?page=1", epochMs: epoch });
      const r = await raw(`${s.url}/ota/deployment/x/all?page=2`, { headers: { ...h } });
      expect(r.status).toBe(401);
      const r2 = await raw(`${s.url}/ota/deployment/x/all?page=1`, { headers: { ...h } });
      expect(r2.status).toBe(404); // authenticated; the deployment just does not exist
    });
  });

  describe("artifacts", () => {
    it("uploads in three steps; the blob is stored by sha256", async () => {
      const up = await s.vendorA.uploadArtifact(file);
      expect(up.md5).toBe(md5(data));
      const info = await s.vendorA.artifact(up.artifactUuid);
      expect(info).toEqual({
        artifact_uuid: up.artifactUuid,
        artifact_name: "fw-2.0.0.tar.gz",
        artifact_md5: md5(data),
        sha256: sha256(data),
        size: data.length,
        uploaded: true,
      });
      expect(readdirSync(path.join(s.dataDir, "blobs"))).toContain(sha256(data));
    });

    it("returns upload_url, base64 content_md5 and the content type", async () => {
      const uuid = await s.vendorA.createArtifact("x.bin", md5(data));
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
      const u = await s.vendorA.getUploadUrl(uuid, md5(data));
      expect(u.content_md5).toBe(contentMd5(md5(data)));
      expect(u.content_type).toBe("application/octet-stream");
      expect(u.upload_url).toMatch(new RegExp(`^${s.url}/ota/upload/${uuid}\\?expires=\\d+&signature=[0-9a-f]{64}$`));
      // md5 differing from the record -> 400
      expect((await statusOf(s.vendorA.getUploadUrl(uuid, "0".repeat(32)))).status).toBe(400);
    });

    it.each([
      ["../etc/passwd", "path"],
      ["a/b.bin", "separator"],
      ["a\\b.bin", "backslash"],
      ["bad\u0001name", "control"],
      ["x".repeat(256), "too long"],
      ["", "empty"],
    ])("refuses artifact name %j (%s) with 400", async (name) => {
      expect((await statusOf(s.vendorA.createArtifact(name, md5(data)))).status).toBe(400);
    });

    it("refuses an md5 that is not 32 hex digits with 400", async () => {
      expect((await statusOf(s.vendorA.createArtifact("ok.bin", "abc"))).status).toBe(400);
    });

    it("PUT with a wrong Content-MD5 -> 400 and nothing stored; wrong body -> 400; missing header -> 400", async () => {
      const other = Buffer.from("different bytes, not uploaded before");
      const otherFile = path.join(dir, "other.bin");
      writeFileSync(otherFile, other);
      const uuid = await s.vendorA.createArtifact("other.bin", md5(other));
      const u = await s.vendorA.getUploadUrl(uuid, md5(other));
      const put = (headers: Record<string, string>, body: Buffer) => raw(u.upload_url, { method: "PUT", headers, body });
      expect((await put({ "content-md5": contentMd5(md5(data)) }, other)).status).toBe(400);
      expect((await put({ "content-md5": u.content_md5 }, Buffer.from("tampered"))).status).toBe(400);
      expect((await put({}, other)).status).toBe(400);
      expect(readdirSync(path.join(s.dataDir, "blobs"))).not.toContain(sha256(other));
      expect(readdirSync(path.join(s.dataDir, "tmp"))).toEqual([]);
      expect((await s.vendorA.artifact(uuid)).uploaded).toBe(false);
      // the right one still works afterwards
      await s.vendorA.putArtifact(u.upload_url, otherFile, u.content_md5);
      expect((await s.vendorA.artifact(uuid)).sha256).toBe(sha256(other));
    });

    it("PUT to a tampered or expired URL -> 403", async () => {
      const uuid = await s.vendorA.createArtifact("x.bin", md5(data));
      const u = await s.vendorA.getUploadUrl(uuid, md5(data));
      const tampered = u.upload_url.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 1000}`);
      expect((await raw(tampered, { method: "PUT", headers: { "content-md5": u.content_md5 }, body: data })).status).toBe(403);
      const noSig = u.upload_url.replace(/&signature=.*/, "");
      expect((await raw(noSig, { method: "PUT", headers: { "content-md5": u.content_md5 }, body: data })).status).toBe(403);
      const saved = s.clock.now;
      s.clock.now += 16 * 60_000;
      try {
        const r = await raw(u.upload_url, { method: "PUT", headers: { "content-md5": u.content_md5 }, body: data });
        expect(r.status).toBe(403);
        expect(JSON.parse(r.text).code).toBe("E403-2");
      } finally {
        s.clock.now = saved;
      }
    });
  });

  describe("deployments", () => {
    let artifactUuid: string;
    let fwHash: string;
    beforeAll(async () => {
      await s.vendorA.createModel("gw-100");
      await s.vendorA.addSerials("gw-100", ["SN-1", "SN-2", "SN-3", "SN-4"]);
      const up = await s.vendorA.uploadArtifact(file);
      artifactUuid = up.artifactUuid;
      fwHash = up.sha256;
    });

    it("202 with accepted and rejected devices; unknown device rejected with a reason", async () => {
      const d = await s.vendorA.createDeployment({ device_sn: ["SN-1", "SN-404"], artifact_uuid: artifactUuid, arguments: { reboot: true } });
      expect(d.deployment_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(d.deployment_accepted).toEqual(["SN-1"]);
      expect(d.deployment_rejected).toEqual([{ device_sn: "SN-404", message: expect.stringMatching(/unknown device/) }]);
      const st = await s.vendorA.deploymentStatus(d.deployment_id);
      expect(st).toEqual([{ device_sn: "SN-1", deployment_status: "processing", update_epoch: expect.any(Number) }]);
    });

    it("rejects every device when the artifact is not uploaded yet", async () => {
      const uuid = await s.vendorA.createArtifact("later.bin", md5(Buffer.from("later")));
      const d = await s.vendorA.createDeployment({ device_sn: ["SN-2"], artifact_uuid: uuid });
      expect(d.deployment_accepted).toEqual([]);
      expect(d.deployment_rejected[0]?.message).toMatch(/not uploaded/);
    });

    it("400 for a bad body, 404 for an unknown artifact", async () => {
      expect((await statusOf(s.vendorA.signed("POST", "/ota/deployment", { device_sn: [], artifact_uuid: artifactUuid }, [202]))).status).toBe(400);
      expect((await statusOf(s.vendorA.signed("POST", "/ota/deployment", { device_sn: ["SN-1"] }, [202]))).status).toBe(400);
      expect((await statusOf(s.vendorA.createDeployment({ device_sn: ["SN-1"], artifact_uuid: "00000000-0000-0000-0000-000000000000" }))).status).toBe(404);
    });

    /** Enables and activates a serial: its status reports must carry the CIK. */
    async function activated(sn: string): Promise<string> {
      await s.vendorA.enableSerial("gw-100", sn);
      return new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "gw-100" }).activate(sn);
    }

    it("makes the artifact the device's target, lets it through the firewall, and follows its status reports", async () => {
      const model = await s.vendorA.model("gw-100");
      const cik = await activated("SN-2");
      const device = { firmwareId: model.id, deviceId: "SN-2" };
      // not deployed yet: the firewall keeps SN-2 out
      expect((await statusOf(s.backend.check(device, "0".repeat(64)))).status).toBe(401);
      const d = await s.vendorA.createDeployment({ device_sn: ["SN-2"], artifact_uuid: artifactUuid });
      expect(await s.backend.check(device, "0".repeat(64))).toEqual({ status: "update-available", hash: fwHash });
      const dl = await s.backend.download(device, fwHash);
      expect(sha256(dl.body)).toBe(fwHash);

      await s.backend.status({ ...device, cik }, { hash: fwHash, state: "downloading" });
      expect(await s.vendorA.deploymentStatus(d.deployment_id, "processing")).toHaveLength(1);
      s.clock.now += 1000;
      await s.backend.status({ ...device, cik }, { hash: fwHash, state: "success" });
      const done = await s.vendorA.deploymentStatus(d.deployment_id, "success");
      expect(done).toEqual([{ device_sn: "SN-2", deployment_status: "success", update_epoch: s.clock.now }]);
      expect(await s.vendorA.deploymentStatus(d.deployment_id, "processing")).toEqual([]);
      expect(await s.vendorA.deploymentStatus(d.deployment_id, "failed")).toEqual([]);
      expect(await s.backend.check(device, fwHash)).toEqual({ status: "up-to-date" });
      expect(await s.vendorA.device("SN-2")).toEqual([
        {
          model: "gw-100",
          device_sn: "SN-2",
          status: "activated",
          current_hash: fwHash,
          state: "success",
          message: null,
          last_seen: expect.any(Number),
          target_hash: fwHash,
        },
      ]);
      expect((await statusOf(s.vendorB.device("SN-2"))).status).toBe(404);
    });

    it("a failure report marks the deployment failed", async () => {
      const model = await s.vendorA.model("gw-100");
      const cik = await activated("SN-1");
      const d = await s.vendorA.createDeployment({ device_sn: ["SN-1"], artifact_uuid: artifactUuid });
      await s.backend.status({ firmwareId: model.id, deviceId: "SN-1", cik }, { hash: fwHash, state: "failure", message: "flash write error" });
      expect(await s.vendorA.deploymentStatus(d.deployment_id, "failed")).toEqual([
        { device_sn: "SN-1", deployment_status: "failed", update_epoch: expect.any(Number) },
      ]);
    });

    it("a trial boot keeps the deployment processing; the device's record follows what it says it runs (trial, confirm, revert)", async () => {
      const model = await s.vendorA.model("gw-100");
      const cik = await activated("SN-3");
      const device = { firmwareId: model.id, deviceId: "SN-3", cik };
      const old = "a".repeat(64);
      const d = await s.vendorA.createDeployment({ device_sn: ["SN-3"], artifact_uuid: artifactUuid });
      await s.backend.check(device, old);
      expect((await s.vendorA.device("SN-3"))[0]).toMatchObject({ current_hash: old });

      await s.backend.status(device, { hash: fwHash, state: "trial", running: fwHash });
      expect(await s.vendorA.deploymentStatus(d.deployment_id, "processing")).toHaveLength(1);
      expect((await s.vendorA.device("SN-3"))[0]).toMatchObject({ state: "trial", current_hash: fwHash });

      // Not confirmed: the board reverts and says it runs the old image again.
      await s.backend.status(device, { hash: fwHash, state: "failure", message: "not confirmed", running: old });
      expect(await s.vendorA.deploymentStatus(d.deployment_id, "failed")).toHaveLength(1);
      expect((await s.vendorA.device("SN-3"))[0]).toMatchObject({ state: "failure", current_hash: old });

      // A client that does not say what it runs: a failure of the image on record leaves it unknown.
      await s.backend.status(device, { hash: fwHash, state: "trial" });
      expect((await s.vendorA.device("SN-3"))[0]).toMatchObject({ current_hash: fwHash });
      await s.backend.status(device, { hash: fwHash, state: "failure" });
      expect((await s.vendorA.device("SN-3"))[0]).toMatchObject({ current_hash: null });

      // success means confirmed: the device runs it
      await s.backend.status(device, { hash: fwHash, state: "success", running: fwHash });
      expect(await s.vendorA.deploymentStatus(d.deployment_id, "success")).toHaveLength(1);
      expect((await s.vendorA.device("SN-3"))[0]).toMatchObject({ state: "success", current_hash: fwHash });
      expect((await statusOf(s.backend.status(device, { hash: fwHash, state: "success", running: "xyz" }))).status).toBe(400);
    });

    it("a check without the CIK does not overwrite what the activated device reported with it", async () => {
      const model = await s.vendorA.model("gw-100");
      const cik = await activated("SN-4");
      await s.vendorA.createDeployment({ device_sn: ["SN-4"], artifact_uuid: artifactUuid }); // lets SN-4 through the firewall
      await s.backend.check({ firmwareId: model.id, deviceId: "SN-4", cik }, fwHash);
      expect((await s.vendorA.device("SN-4"))[0]).toMatchObject({ current_hash: fwHash });
      // anyone who knows the serial gets through the firewall, but does not speak for the device
      await s.backend.check({ firmwareId: model.id, deviceId: "SN-4" }, "b".repeat(64));
      expect((await s.vendorA.device("SN-4"))[0]).toMatchObject({ current_hash: fwHash });
    });

    it("404 for an unknown status filter or deployment id", async () => {
      expect((await statusOf(s.vendorA.signed("GET", "/ota/deployment/nope/all"))).status).toBe(404);
      const d = await s.vendorA.createDeployment({ device_sn: ["SN-1"], artifact_uuid: artifactUuid });
      expect((await statusOf(s.vendorA.signed("GET", `/ota/deployment/${d.deployment_id}/pending`))).status).toBe(404);
    });
  });

  describe("vendor isolation", () => {
    it("vendor B gets 404 on vendor A's artifacts, models and deployments, and cannot deploy to A's devices", async () => {
      const up = await s.vendorA.uploadArtifact(file);
      await s.vendorA.createModel("iso-model");
      await s.vendorA.addSerials("iso-model", ["ISO-1"]);
      const d = await s.vendorA.createDeployment({ device_sn: ["ISO-1"], artifact_uuid: up.artifactUuid });

      expect((await statusOf(s.vendorB.artifact(up.artifactUuid))).status).toBe(404);
      expect((await statusOf(s.vendorB.getUploadUrl(up.artifactUuid, up.md5))).status).toBe(404);
      expect((await statusOf(s.vendorB.deploymentStatus(d.deployment_id))).status).toBe(404);
      expect((await statusOf(s.vendorB.createDeployment({ device_sn: ["ISO-1"], artifact_uuid: up.artifactUuid }))).status).toBe(404);
      expect((await statusOf(s.vendorB.model("iso-model"))).status).toBe(404);
      expect((await statusOf(s.vendorB.addSerials("iso-model", ["X"]))).status).toBe(404);
      expect((await statusOf(s.vendorB.enableSerial("iso-model", "ISO-1"))).status).toBe(404);
      expect((await statusOf(s.vendorB.serialStatus("iso-model", "ISO-1"))).status).toBe(404);
      expect((await statusOf(s.vendorB.createContent("iso-model", "fw"))).status).toBe(404);

      // B's own artifact cannot reach A's device either: the device is unknown to B
      const upB = await s.vendorB.uploadArtifact(file);
      const dB = await s.vendorB.createDeployment({ device_sn: ["ISO-1"], artifact_uuid: upB.artifactUuid });
      expect(dB.deployment_accepted).toEqual([]);
      // B may use the same model name in its own namespace
      await s.vendorB.createModel("iso-model");
      expect((await s.vendorB.model("iso-model")).id).not.toBe((await s.vendorA.model("iso-model")).id);
    });
  });

  it("logs no secrets", () => {
    const all = s.logs.join("");
    expect(all).not.toContain(VENDOR_A.secret);
    expect(all).not.toContain("signature=");
  });
});

describe("pre-signed PUT over OTA_MAX_UPLOAD", () => {
  it("answers 413 and stores nothing", async () => {
    const s = await startTestServer({ maxUploadBytes: 1000 });
    try {
      const big = Buffer.alloc(5000, 1);
      const uuid = await s.vendorA.createArtifact("big.bin", md5(big));
      const u = await s.vendorA.getUploadUrl(uuid, md5(big));
      const r = await raw(u.upload_url, { method: "PUT", headers: { "content-md5": u.content_md5 }, body: big });
      expect(r.status).toBe(413);
      expect(JSON.parse(r.text).code).toBe("E413-1");
      expect((await s.vendorA.artifact(uuid)).uploaded).toBe(false);
      expect(readdirSync(path.join(s.dataDir, "blobs"))).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});
