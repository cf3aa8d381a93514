// Server hardening (issue 12): one answer for every device auth failure, 429 + Retry-After after
// repeated failed signatures, header deadlines, one-shot upload URLs with 409 for verified bytes,
// and status reports of provisioned devices only with their CIK.
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProvisionClient } from "../../harness/ota/provision-client.ts";
import { VendorClient } from "../../harness/ota/vendor-client.ts";
import { md5, raw, sha256, startTestServer, statusOf, VENDOR_A, type TestServer } from "./helpers.ts";

describe("server hardening", () => {
  let s: TestServer;
  const LIMIT = { count: 3, windowMs: 60_000 };

  beforeAll(async () => {
    s = await startTestServer({ authFailureLimit: LIMIT, headersTimeoutMs: 400 });
  });
  afterAll(() => s.stop());

  it("answers every device auth failure the same way and logs the reason", async () => {
    const fw = await s.backend.create();
    await s.backend.deny(fw, "blocked");
    const check = (headers: Record<string, string>) => raw(`${s.url}/v1/check`, { method: "POST", headers });
    const answers = await Promise.all([
      check({ "x-ota-firmware-id": "999999", "x-ota-device-id": "d1" }), // unknown firmware
      check({ "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "blocked" }), // device not allowed
      raw(`${s.url}/v1/firewall/allow`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id), "x-ota-firmware-key": "wrong" }, body: "device_id=x" }), // wrong key
    ]);
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(JSON.parse(a.text)).toEqual({ error: 401, code: "INVALID_AUTH", message: "invalid credentials" });
    }
    const reasons = s.logs.map((l) => JSON.parse(l) as { reason?: string }).map((l) => l.reason);
    expect(reasons).toEqual(expect.arrayContaining(["unknown firmware", "device not allowed by the firewall", "wrong x-ota-firmware-key"]));
  });

  it("429 with Retry-After after repeated failed signatures from one address, even for a good one, until the window ends", async () => {
    const wrong = new VendorClient({ baseUrl: s.url, keyId: VENDOR_A.keyId, secret: "not-the-secret", now: () => s.clock.now });
    for (let i = 0; i < LIMIT.count; i++) expect(await statusOf(wrong.createArtifact("a.bin", md5(Buffer.from("a"))))).toEqual({ status: 401, code: "E401-2" });
    const limited = await statusOf(s.vendorA.createArtifact("a.bin", md5(Buffer.from("a"))));
    expect(limited).toEqual({ status: 429, code: "E429-1" });
    const r = await raw(`${s.url}/ota/artifact`, { method: "POST", body: "{}" });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    s.clock.now += LIMIT.windowMs;
    expect((await statusOf(s.vendorA.createArtifact("a.bin", md5(Buffer.from("a"))))).status).toBe(200);
  });

  it("closes a connection whose headers never finish (headersTimeout)", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(new URL(s.url).port), "127.0.0.1");
      let got = "";
      const guard = setTimeout(() => {
        sock.destroy();
        reject(new Error(`the server kept a half-sent request open for 10 s; got so far: ${JSON.stringify(got)}`));
      }, 10_000);
      sock.on("data", (d) => (got += d.toString()));
      sock.on("close", () => {
        clearTimeout(guard);
        resolve(got);
      });
      sock.on("error", () => {});
      sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("a pre-signed URL uploads once; verified bytes are never replaced (409)", async () => {
    const data = Buffer.from("firmware bytes for the one-shot test");
    const uuid = await s.vendorA.createArtifact("one.bin", md5(data));
    const u = await s.vendorA.getUploadUrl(uuid, md5(data));
    const put = (url: string, body: Buffer) => raw(url, { method: "PUT", headers: { "content-md5": u.content_md5 }, body });
    expect((await put(u.upload_url, data)).status).toBe(200);
    const again = await put(u.upload_url, data);
    expect(again.status).toBe(403);
    expect(JSON.parse(again.text).code).toBe("E403-3");
    s.clock.now += 1000; // a URL is its expiry's HMAC: a second later it is a different URL
    const fresh = await s.vendorA.getUploadUrl(uuid, md5(data));
    expect(fresh.upload_url).not.toBe(u.upload_url);
    const reupload = await put(fresh.upload_url, data);
    expect(reupload.status).toBe(409);
    expect(JSON.parse(reupload.text).code).toBe("E409-4");
    expect((await s.vendorA.artifact(uuid)).sha256).toBe(sha256(data));
  });

  describe("status reports of provisioned devices", () => {
    let firmwareId: number;
    let hash: string;
    let cik: string;

    beforeAll(async () => {
      await s.vendorA.createModel("st-1");
      await s.vendorA.addSerials("st-1", ["P-1", "P-2"]);
      await s.vendorA.enableSerial("st-1", "P-1");
      cik = await new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "st-1" }).activate("P-1");
      firmwareId = (await s.vendorA.model("st-1")).id;
      const data = Buffer.from("status test image");
      const file = join(s.dataDir, "upload-source.bin"); // removed with the server's data
      writeFileSync(file, data);
      const up = await s.vendorA.uploadArtifact(file, "st.bin");
      hash = up.sha256;
      await s.vendorA.createDeployment({ device_sn: ["P-1", "P-2"], artifact_uuid: up.artifactUuid });
    });

    it("need the device's CIK: without it (or with another's) 401 and the deployment stays processing", async () => {
      const report = { hash, state: "success" as const };
      expect(await statusOf(s.backend.status({ firmwareId, deviceId: "P-1" }, report))).toEqual({ status: 401, code: "INVALID_AUTH" });
      expect(await statusOf(s.backend.status({ firmwareId, deviceId: "P-2", cik }, report))).toEqual({ status: 401, code: "INVALID_AUTH" });
      expect(await statusOf(s.backend.status({ firmwareId, deviceId: "P-2" }, report))).toEqual({ status: 401, code: "INVALID_AUTH" });
      expect((await s.vendorA.device("P-1"))[0]?.state).toBeNull();
      await s.backend.status({ firmwareId, deviceId: "P-1", cik }, report);
      expect((await s.vendorA.device("P-1"))[0]?.state).toBe("success");
    });
  });
});
