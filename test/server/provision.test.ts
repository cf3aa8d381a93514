// Provisioning (seed 002): models, serial numbers, the activation window, CIK revocation on
// re-enable, content listing/info/download with Range, require_activation and device status.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OtaHttpError } from "../../harness/ota/http.ts";
import { ProvisionClient } from "../../harness/ota/provision-client.ts";
import { raw, startTestServer, VENDOR_A, VENDOR_B, type TestServer } from "./helpers.ts";

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (!(err instanceof OtaHttpError)) throw err;
    return err.status;
  }
}

describe("provisioning", () => {
  let s: TestServer;
  let device: ProvisionClient;
  const WINDOW = 90_000;

  beforeAll(async () => {
    s = await startTestServer({ activationWindowMs: WINDOW });
    await s.vendorA.createModel("cam-1");
    device = new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "cam-1" });
  });
  afterAll(() => s.stop());

  describe("vendor management", () => {
    it("creates a model (205), refuses a duplicate (409), and shows its ota-backend credentials", async () => {
      expect(await statusOf(s.vendorA.createModel("cam-1"))).toBe(409);
      const m = await s.vendorA.model("cam-1");
      expect(m).toEqual({ model: "cam-1", id: expect.any(Number), key: expect.any(String), require_activation: false });
      expect(await statusOf(s.vendorA.model("nope"))).toBe(404);
    });

    it("answers 205 with no body to the raw form requests of the issue", async () => {
      const r = await s.vendorA.signed("POST", "/provision/manage/model/", new URLSearchParams({ model: "raw-form" }), [205]);
      expect(r.length).toBe(0);
    });

    it("adds serial numbers (repeatable sn), 409 when one is present, and reports their status", async () => {
      await s.vendorA.addSerials("cam-1", ["C-1", "C-2", "C-3"]);
      expect(await statusOf(s.vendorA.addSerials("cam-1", ["C-4", "C-1"]))).toBe(409);
      expect(await statusOf(s.vendorA.serialStatus("cam-1", "C-4"))).toBe(404); // the 409 added nothing
      expect(await s.vendorA.serialStatus("cam-1", "C-1")).toBe("registered");
      await s.vendorA.enableSerial("cam-1", "C-1");
      expect(await s.vendorA.serialStatus("cam-1", "C-1")).toBe("enabled");
      await s.vendorA.disableSerial("cam-1", "C-1");
      expect(await s.vendorA.serialStatus("cam-1", "C-1")).toBe("disabled");
      expect(await statusOf(s.vendorA.enableSerial("cam-1", "NOPE"))).toBe(404);
      expect(await statusOf(s.vendorA.signed("POST", "/provision/manage/model/cam-1/C-1", new URLSearchParams({ foo: "1" }), [205]))).toBe(400);
    });

    it("accepts JSON bodies too", async () => {
      await s.vendorA.signed("POST", "/provision/manage/model/cam-1/", { sn: ["J-1", "J-2"] }, [205]);
      expect(await s.vendorA.serialStatus("cam-1", "J-2")).toBe("registered");
    });
  });

  describe("activation", () => {
    it("404 for an unknown vendor, model or serial; 409 when not enabled", async () => {
      expect(await statusOf(device.activate("UNKNOWN"))).toBe(404);
      expect(await statusOf(new ProvisionClient({ baseUrl: s.url, vendor: "nobody", model: "cam-1" }).activate("C-2"))).toBe(404);
      expect(await statusOf(new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "x" }).activate("C-2"))).toBe(404);
      expect(await statusOf(device.activate("C-2"))).toBe(409);
    });

    it("gives a 40-hex CIK as text/plain once; a second activation is 409", async () => {
      await s.vendorA.enableSerial("cam-1", "C-2");
      const r = await raw(`${s.url}/provision/activate`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `vendor=${VENDOR_A.vendor}&model=cam-1&sn=C-2`,
      });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(r.text).toMatch(/^[0-9a-f]{40}$/);
      expect(await s.vendorA.serialStatus("cam-1", "C-2")).toBe("activated");
      expect(await statusOf(device.activate("C-2"))).toBe(409);
      expect(s.logs.join("")).not.toContain(r.text);
    });

    it("409 after the activation window; the vendor sees `expired`; re-enabling opens a new window", async () => {
      await s.vendorA.enableSerial("cam-1", "C-3");
      s.clock.now += WINDOW + 1;
      expect(await s.vendorA.serialStatus("cam-1", "C-3")).toBe("expired");
      expect(await statusOf(device.activate("C-3"))).toBe(409);
      await s.vendorA.enableSerial("cam-1", "C-3");
      s.clock.now += WINDOW; // the window's last millisecond still counts
      expect(await device.activate("C-3")).toMatch(/^[0-9a-f]{40}$/);
    });

    it("re-enabling an activated serial revokes its CIK", async () => {
      await s.vendorA.addSerials("cam-1", ["R-1"]);
      await s.vendorA.enableSerial("cam-1", "R-1");
      const old = await device.activate("R-1");
      expect(await device.listContent(old)).toEqual([]);
      await s.vendorA.enableSerial("cam-1", "R-1");
      expect(await statusOf(device.listContent(old))).toBe(401);
      const fresh = await device.activate("R-1");
      expect(fresh).not.toBe(old);
      expect(await device.listContent(fresh)).toEqual([]);
      expect(await statusOf(device.listContent(old))).toBe(401);
    });
  });

  describe("content", () => {
    let cik: string;
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

    beforeAll(async () => {
      await s.vendorA.addSerials("cam-1", ["D-1"]);
      await s.vendorA.enableSerial("cam-1", "D-1");
      cik = await device.activate("D-1");
      await s.vendorA.createContent("cam-1", "firmware_v2", "version 2, with a comma");
      await s.vendorA.uploadContent("cam-1", "firmware_v2", body, "application/x-firmware");
      await s.vendorA.createContent("cam-1", "empty_slot", "no body yet");
    });

    it("lists uploaded content ids, gives info as CSV, and serves the body", async () => {
      expect(await device.listContent(cik)).toEqual(["firmware_v2"]);
      const info = await device.contentInfo(cik, "firmware_v2");
      expect(info).toEqual({ type: "application/x-firmware", size: 1000, updated: Math.floor(s.clock.now / 1000), meta: "version 2, with a comma" });
      const got = await device.downloadContent(cik, "firmware_v2");
      expect(got.status).toBe(200);
      expect(sha256(got.body)).toBe(sha256(body));
    });

    it("serves ranges: 0-0, suffix, open-ended; unsatisfiable -> 416", async () => {
      expect((await device.downloadContent(cik, "firmware_v2", { range: { start: 0, end: 0 } })).body).toEqual(body.subarray(0, 1));
      expect((await device.downloadContent(cik, "firmware_v2", { range: { suffix: 10 } })).body).toEqual(body.subarray(990));
      const open = await device.downloadContent(cik, "firmware_v2", { range: { start: 900 } });
      expect(open.status).toBe(206);
      expect(open.body).toEqual(body.subarray(900));
      expect(await statusOf(device.downloadContent(cik, "firmware_v2", { range: { start: 1000 } }))).toBe(416);
    });

    it("401 for a bad or missing CIK, or a CIK of another model; 404 for unknown content", async () => {
      expect(await statusOf(device.listContent("0".repeat(40)))).toBe(401);
      const r = await raw(`${s.url}/provision/download?vendor=${VENDOR_A.vendor}&model=cam-1`);
      expect(r.status).toBe(401);
      await s.vendorA.createModel("other");
      const other = new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "other" });
      expect(await statusOf(other.listContent(cik))).toBe(401);
      expect(await statusOf(device.downloadContent(cik, "nope"))).toBe(404);
      expect(await statusOf(device.downloadContent(cik, "empty_slot"))).toBe(404);
    });

    it("content create 409 on duplicate; DELETE 205 then 404", async () => {
      expect(await statusOf(s.vendorA.createContent("cam-1", "firmware_v2"))).toBe(409);
      await s.vendorA.createContent("cam-1", "tmp");
      await s.vendorA.uploadContent("cam-1", "tmp", Buffer.from("x"));
      expect(await device.listContent(cik)).toEqual(["firmware_v2", "tmp"]);
      await s.vendorA.deleteContent("cam-1", "tmp");
      expect(await device.listContent(cik)).toEqual(["firmware_v2"]);
      expect(await statusOf(s.vendorA.deleteContent("cam-1", "tmp"))).toBe(404);
      expect(await statusOf(s.vendorA.uploadContent("cam-1", "never-created", Buffer.from("x")))).toBe(404);
    });
  });

  describe("require_activation and device status", () => {
    it("makes /v1/check and /v1/download demand the device's own valid CIK", async () => {
      await s.vendorA.createModel("secure", { requireActivation: true });
      const m = await s.vendorA.model("secure");
      expect(m.require_activation).toBe(true);
      await s.vendorA.addSerials("secure", ["S-1", "S-2"]);
      await s.vendorA.enableSerial("secure", "S-1");
      await s.vendorA.enableSerial("secure", "S-2");
      const dev = new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "secure" });
      const cik1 = await dev.activate("S-1");
      const cik2 = await dev.activate("S-2");
      const fw = { id: m.id, key: m.key };
      await s.backend.allow(fw, "all"); // the firewall alone is not enough
      const image = Buffer.from("secure image");
      const file = `${s.dataDir}/secure.bin`;
      (await import("node:fs")).writeFileSync(file, image);
      const hash = await s.backend.upload(fw, file);

      expect(await statusOf(s.backend.check({ firmwareId: m.id, deviceId: "S-1" }))).toBe(401);
      expect(await statusOf(s.backend.check({ firmwareId: m.id, deviceId: "S-1", cik: cik2 }))).toBe(401);
      expect(await s.backend.check({ firmwareId: m.id, deviceId: "S-1", cik: cik1 })).toEqual({ status: "update-available", hash });
      expect(await statusOf(s.backend.download({ firmwareId: m.id, deviceId: "S-1" }, hash))).toBe(401);
      expect((await s.backend.download({ firmwareId: m.id, deviceId: "S-1", cik: cik1 }, hash)).body).toEqual(image);

      // switched off again: the firewall decides
      await s.vendorA.setRequireActivation("secure", false);
      expect((await s.backend.check({ firmwareId: m.id, deviceId: "S-1" })).status).toBe("update-available");
    });

    it("an activated device is let through by its CIK even without a firewall rule", async () => {
      const m = await s.vendorA.model("cam-1");
      await s.vendorA.addSerials("cam-1", ["F-1"]);
      await s.vendorA.enableSerial("cam-1", "F-1");
      const cik = await device.activate("F-1");
      expect(await statusOf(s.backend.check({ firmwareId: m.id, deviceId: "F-1" }))).toBe(401);
      expect(await statusOf(s.backend.check({ firmwareId: m.id, deviceId: "F-1", cik }))).toBe(404); // in, but nothing uploaded
    });

    it("POST /provision/status with a CIK -> 204 and drives the deployment; bad CIK 401", async () => {
      await s.vendorA.addSerials("cam-1", ["P-1"]);
      await s.vendorA.enableSerial("cam-1", "P-1");
      const cik = await device.activate("P-1");
      const file = `${s.dataDir}/p.bin`;
      (await import("node:fs")).writeFileSync(file, Buffer.from("p image"));
      const up = await s.vendorA.uploadArtifact(file);
      const d = await s.vendorA.createDeployment({ device_sn: ["P-1"], artifact_uuid: up.artifactUuid });
      await device.status(cik, { hash: up.sha256, state: "installing" });
      expect((await s.vendorA.deploymentStatus(d.deployment_id))[0]?.deployment_status).toBe("processing");
      await device.status(cik, { hash: up.sha256, state: "success" });
      expect((await s.vendorA.deploymentStatus(d.deployment_id))[0]?.deployment_status).toBe("success");
      expect(await statusOf(device.status("f".repeat(40), { hash: up.sha256, state: "success" }))).toBe(401);
    });
  });

  it("vendor B cannot see vendor A's models or serials", async () => {
    expect(await statusOf(s.vendorB.model("cam-1"))).toBe(404);
    expect(await statusOf(s.vendorB.serialStatus("cam-1", "C-1"))).toBe(404);
    expect(await statusOf(new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_B.vendor, model: "cam-1" }).activate("C-1"))).toBe(404);
  });
});
