// The ota-backend surface (seed 001) over real HTTP: status codes, firewall, uploads, check,
// download with ranges, shared secret, status reports, and many concurrent downloads.
import { createHash } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OtaHttpError } from "../../harness/ota/http.ts";
import type { FirmwareCredentials } from "../../harness/ota/backend-client.ts";
import { raw, startTestServer, tempDir, type TestServer } from "./helpers.ts";

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

function image(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

describe("ota-backend surface", () => {
  let s: TestServer;
  let fw: FirmwareCredentials;
  const dir = tempDir("otarig-images-");
  const v1 = image("v1", 300_000);
  const v2 = image("v2", 123_457);
  const v1File = path.join(dir, "v1.bin");
  const v2File = path.join(dir, "v2.bin");
  const dev = (deviceId: string) => ({ firmwareId: fw.id, deviceId });

  beforeAll(async () => {
    writeFileSync(v1File, v1);
    writeFileSync(v2File, v2);
    s = await startTestServer();
    fw = await s.backend.create();
  });
  afterAll(() => s.stop());

  it("answers /healthz", async () => {
    const r = await raw(`${s.url}/healthz`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ ok: true, version: expect.any(String) });
    expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("creates firmware with a numeric id and a key", async () => {
    const r = await raw(`${s.url}/v1/create`, { method: "POST" });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { id: unknown; key: unknown };
    expect(typeof body.id).toBe("number");
    expect(typeof body.key).toBe("string");
    expect(body.id).not.toBe(fw.id);
  });

  it("answers 404 FIRMWARE_NOT_UPLOADED before any upload", async () => {
    await s.backend.allow(fw, "all");
    const r = await raw(`${s.url}/v1/check`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "d0" } });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text)).toEqual({ error: 404, code: "FIRMWARE_NOT_UPLOADED", message: expect.any(String) });
    await s.backend.deny(fw, "all");
  });

  it("uploads multipart and returns the sha256; same bytes again is the same hash", async () => {
    expect(await s.backend.upload(fw, v1File)).toBe(sha256(v1));
    expect(await s.backend.upload(fw, v1File)).toBe(sha256(v1));
  });

  it("accepts a multipart body from curl-style form fields and the file not first", async () => {
    const fw2 = await s.backend.create();
    const form = new FormData();
    form.append("note", "hello");
    form.append("file", new Blob([v2]), "v2.bin");
    const r = await raw(`${s.url}/v1/upload`, {
      method: "POST",
      headers: { "x-ota-firmware-id": String(fw2.id), "x-ota-firmware-key": fw2.key },
      body: form,
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ hash: sha256(v2) });
  });

  it("rejects uploads with a bad key (401) and without a file part (400)", async () => {
    const bad = await raw(`${s.url}/v1/upload`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id), "x-ota-firmware-key": "nope" }, body: "x" });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.text).code).toBe("INVALID_AUTH");
    const form = new FormData();
    form.append("note", "no file here");
    const nofile = await raw(`${s.url}/v1/upload`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id), "x-ota-firmware-key": fw.key }, body: form });
    expect(nofile.status).toBe(400);
    expect(JSON.parse(nofile.text)).toMatchObject({ error: 400, code: "NO_FILE" });
  });

  it("firewall: unknown devices 401, allow lets one in, all lets anyone in, explicit deny beats all", async () => {
    const check = (id: string) => raw(`${s.url}/v1/check/abc`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": id } });
    expect((await check("dev-a")).status).toBe(401);
    await s.backend.allow(fw, "dev-a");
    expect((await check("dev-a")).status).toBe(200);
    expect((await check("dev-b")).status).toBe(401);
    await s.backend.allow(fw, "all");
    expect((await check("dev-b")).status).toBe(200);
    await s.backend.deny(fw, "dev-b");
    expect((await check("dev-b")).status).toBe(401);
    expect((await check("dev-c")).status).toBe(200);
    await s.backend.deny(fw, "all");
    expect((await check("dev-c")).status).toBe(401);
    expect((await check("dev-a")).status).toBe(200);
  });

  it("firewall accepts a form body too, and 401s a wrong key", async () => {
    const headers = { "x-ota-firmware-id": String(fw.id), "x-ota-firmware-key": fw.key, "content-type": "application/x-www-form-urlencoded" };
    expect((await raw(`${s.url}/v1/firewall/allow`, { method: "POST", headers, body: "device_id=form-dev" })).status).toBe(200);
    const r = await raw(`${s.url}/v1/check`, { headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "form-dev" } });
    expect(r.status).toBe(200);
    const wrong = await raw(`${s.url}/v1/firewall/allow`, { method: "POST", headers: { ...headers, "x-ota-firmware-key": "x" }, body: "device_id=z" });
    expect(wrong.status).toBe(401);
  });

  it("check: 200 with the newest upload, 204 when equal (any case), on POST and GET; unknown firmware 401", async () => {
    await s.backend.allow(fw, "dev-check");
    const d = dev("dev-check");
    expect(await s.backend.check(d, "0".repeat(64))).toEqual({ status: "update-available", hash: sha256(v1) });
    expect(await s.backend.check(d, sha256(v1).toUpperCase(), "GET")).toEqual({ status: "up-to-date" });
    expect(await s.backend.check(d, undefined, "GET")).toEqual({ status: "update-available", hash: sha256(v1) });
    await s.backend.upload(fw, v2File);
    expect(await s.backend.check(d, sha256(v1))).toEqual({ status: "update-available", hash: sha256(v2) });
    const err = await s.backend.check({ firmwareId: 99999, deviceId: "dev-check" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OtaHttpError);
    expect((err as OtaHttpError).status).toBe(401);
    expect((err as OtaHttpError).code).toBe("INVALID_AUTH");
    const noDevice = await raw(`${s.url}/v1/check`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id) } });
    expect(noDevice.status).toBe(401);
  });

  describe("download", () => {
    const headers = () => ({ "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "dev-dl" });
    const url = () => `${s.url}/v1/download/${sha256(v1)}`;
    beforeAll(() => s.backend.allow(fw, "dev-dl"));

    it("streams the whole image with Content-Length, ETag and Accept-Ranges on GET and POST", async () => {
      for (const method of ["GET", "POST"]) {
        const r = await raw(url(), { method, headers: headers() });
        expect(r.status).toBe(200);
        expect(sha256(r.body)).toBe(sha256(v1));
        expect(r.headers.get("content-length")).toBe(String(v1.length));
        expect(r.headers.get("etag")).toBe(`"${sha256(v1)}"`);
        expect(r.headers.get("accept-ranges")).toBe("bytes");
        expect(r.headers.get("content-type")).toBe("application/octet-stream");
      }
    });

    it("answers HEAD with the headers and no body", async () => {
      const r = await raw(url(), { method: "HEAD", headers: headers() });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-length")).toBe(String(v1.length));
      expect(r.body.length).toBe(0);
    });

    it.each([
      ["bytes=0-0", 0, 0],
      ["bytes=10-19", 10, 19],
      ["bytes=299990-", 299_990, 299_999],
      ["bytes=-5", 299_995, 299_999],
      ["bytes=-999999", 0, 299_999],
      ["bytes=299000-400000", 299_000, 299_999],
    ])("Range %s -> 206 bytes %i-%i", async (range, start, end) => {
      const r = await raw(url(), { headers: { ...headers(), range } });
      expect(r.status).toBe(206);
      expect(r.headers.get("content-range")).toBe(`bytes ${start}-${end}/${v1.length}`);
      expect(r.body.equals(v1.subarray(start, end + 1))).toBe(true);
    });

    it.each(["bytes=300000-", "bytes=400000-500000", "bytes=-0"])("Range %s -> 416", async (range) => {
      const r = await raw(url(), { headers: { ...headers(), range } });
      expect(r.status).toBe(416);
      expect(r.headers.get("content-range")).toBe(`bytes */${v1.length}`);
    });

    // RFC 9110 §14.2: an invalid Range is ignored (the whole body), not answered 416 (issue 19).
    it.each(["bytes=", "bytes= 0 - 1", "bytes=0 -1", "bytes=-", "bytes=20-10", "bytes=abc"])("invalid Range %j -> 200, the whole body", async (range) => {
      const r = await raw(url(), { headers: { ...headers(), range } });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-range")).toBeNull();
      expect(r.body.equals(v1)).toBe(true);
    });

    it("resumes with the client: open-ended range into a file", async () => {
      const file = path.join(dir, "resume.bin");
      const res = await s.backend.download(dev("dev-dl"), sha256(v1), { range: { start: 1000 }, toFile: file });
      expect(res.status).toBe(206);
      expect(res.bytes).toBe(v1.length - 1000);
    });

    it("404 FIRMWARE_NOT_AVAILABLE for a hash this firmware does not have", async () => {
      for (const hash of ["f".repeat(64), "not-a-hash"]) {
        const r = await raw(`${s.url}/v1/download/${hash}`, { headers: headers() });
        expect(r.status).toBe(404);
        expect(JSON.parse(r.text).code).toBe("FIRMWARE_NOT_AVAILABLE");
      }
      // another firmware's image is not available through this one
      const other = await s.backend.create();
      await s.backend.allow(other, "dev-dl");
      const r = await raw(url(), { headers: { "x-ota-firmware-id": String(other.id), "x-ota-device-id": "dev-dl" } });
      expect(r.status).toBe(404);
    });

    it("401 for a device the firewall does not let in", async () => {
      const r = await raw(url(), { headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "stranger" } });
      expect(r.status).toBe(401);
    });

    it("serves 50 concurrent downloads of one image, every one complete and correct", async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () => s.backend.download(dev("dev-dl"), sha256(v1))),
      );
      expect(results).toHaveLength(50);
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(sha256(r.body)).toBe(sha256(v1));
      }
    });
  });

  it("records device status and validates it (204 / 400)", async () => {
    await s.backend.allow(fw, "dev-status");
    await s.backend.status(dev("dev-status"), { hash: sha256(v1), state: "downloading" });
    await s.backend.status(dev("dev-status"), { hash: sha256(v1), state: "success", message: "booted" });
    const bad = await raw(`${s.url}/v1/status`, {
      method: "POST",
      headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "dev-status", "content-type": "application/json" },
      body: JSON.stringify({ hash: sha256(v1), state: "exploded" }),
    });
    expect(bad.status).toBe(400);
    const badHash = await raw(`${s.url}/v1/status`, {
      method: "POST",
      headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "dev-status", "content-type": "application/json" },
      body: JSON.stringify({ hash: "xyz", state: "success" }),
    });
    expect(badHash.status).toBe(400);
    const denied = await raw(`${s.url}/v1/status`, {
      method: "POST",
      headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "nobody", "content-type": "application/json" },
      body: JSON.stringify({ hash: sha256(v1), state: "success" }),
    });
    expect(denied.status).toBe(401);
  });

  it("unknown endpoints answer a JSON 404, wrong methods 405", async () => {
    const r = await raw(`${s.url}/v1/nothing`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text)).toMatchObject({ error: 404, code: "NOT_FOUND" });
    const m = await raw(`${s.url}/v1/create`, { method: "GET" });
    expect(m.status).toBe(405);
  });

  it("logs one JSON line per request and never a key", async () => {
    const lines = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === "request").length).toBeGreaterThan(20);
    expect(s.logs.join("")).not.toContain(fw.key);
  });

  it("leaves no temp files behind after uploads", () => {
    expect(readdirSync(path.join(s.dataDir, "tmp"))).toEqual([]);
  });
});

describe("OTA_SECRET", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ secret: "s3cret-value" });
  });
  afterAll(() => s.stop());

  it("is required on every ota-backend endpoint: missing or wrong -> 401 INVALID_AUTH", async () => {
    for (const headers of [{}, { "x-ota-secret": "wrong" }] as Record<string, string>[]) {
      for (const [method, p] of [
        ["POST", "/v1/create"],
        ["POST", "/v1/firewall/allow"],
        ["POST", "/v1/upload"],
        ["POST", "/v1/check/abc"],
        ["GET", "/v1/download/abc"],
        ["POST", "/v1/status"],
      ] as const) {
        const r = await raw(`${s.url}${p}`, { method, headers });
        expect(r.status, `${method} ${p}`).toBe(401);
        expect(JSON.parse(r.text)).toMatchObject({ error: 401, code: "INVALID_AUTH" });
      }
    }
  });

  it("lets the right secret through", async () => {
    const fw = await s.backend.create(); // the client sends x-ota-secret
    expect(fw.id).toBeGreaterThan(0);
    expect(s.logs.join("")).not.toContain("s3cret-value");
  });
});

describe("OTA_MAX_UPLOAD", () => {
  it("answers 413 over the limit and stores nothing", async () => {
    const s = await startTestServer({ maxUploadBytes: 1000 });
    try {
      const fw = await s.backend.create();
      const file = path.join(tempDir(), "big.bin");
      writeFileSync(file, image("big", 5000));
      const err = (await s.backend.upload(fw, file).catch((e: unknown) => e)) as OtaHttpError;
      expect(err).toBeInstanceOf(OtaHttpError);
      expect(err.status).toBe(413);
      // chunked body (no Content-Length): the limit is enforced while streaming
      const chunked = await raw(`${s.url}/v1/upload`, {
        method: "POST",
        headers: { "x-ota-firmware-id": String(fw.id), "x-ota-firmware-key": fw.key, "content-type": "application/octet-stream" },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new Uint8Array(800));
            c.enqueue(new Uint8Array(800));
            c.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(readdirSync(path.join(s.dataDir, "blobs"))).toEqual([]);
      expect(readdirSync(path.join(s.dataDir, "tmp"))).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});

describe("client errors", () => {
  it("an unreachable server is an infrastructure error, an error status a test failure with status and code", async () => {
    const s = await startTestServer();
    const url = s.url;
    const fwErr = (await s.backend.check({ firmwareId: 12345, deviceId: "x" }).catch((e: unknown) => e)) as OtaHttpError;
    expect(fwErr.failureClass).toBe("test");
    expect(fwErr).toMatchObject({ status: 401, code: "INVALID_AUTH" });
    await s.stop();
    const { BackendClient } = await import("../../harness/ota/backend-client.ts");
    const { OtaConnectionError } = await import("../../harness/ota/http.ts");
    const err = await new BackendClient({ baseUrl: url }).health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OtaConnectionError);
    expect((err as InstanceType<typeof OtaConnectionError>).failureClass).toBe("infrastructure");
  });
});
