// What a security review of the reference server found (issue 19), each with the server as a real
// process over HTTP on 127.0.0.1: stalled bodies, connection bound, disabled serials, deployments
// across models, replayed signatures, activation guessing, anonymous uploads off loopback, portal
// CSRF and cookies, the rate limiter's table and buckets, client aborts, portal 404 headers.
import { writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { portalSignIn } from "../../harness/ota/portal-client.ts";
import { freshEpoch, signRequest } from "../../harness/ota/signer.ts";
import { configFromEnv } from "../../server/config.ts";
import { addressKey, FailureLimiter } from "../../server/http/rate-limit.ts";
import { md5, raw, sha256, startTestServer, statusOf, VENDOR_A, type TestServer } from "./helpers.ts";

/** A raw connection: what the server sent until it closed the socket (or `waitMs` passed). */
function rawExchange(url: string, send: (sock: Socket) => void, waitMs: number): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = connect(Number(new URL(url).port), "127.0.0.1");
    let text = "";
    const done = (closed: boolean): void => {
      clearTimeout(guard);
      sock.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const guard = setTimeout(() => done(false), waitMs);
    sock.on("data", (d) => (text += d.toString()));
    sock.on("close", () => done(true));
    sock.on("error", () => {});
    sock.on("connect", () => send(sock));
  });
}

const logLines = (s: TestServer): Record<string, unknown>[] => s.logs.map((l) => JSON.parse(l) as Record<string, unknown>);

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("stalled bodies and open connections (item 1)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ bodyIdleMs: 300, uploadIdleMs: 1500 });
  });
  afterAll(() => s.stop());

  it("a small body that stops coming gets 408 and its connection closed, within the body idle time", async () => {
    const r = await rawExchange(
      s.url,
      (sock) => sock.write("POST /provision/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nvendor=a"),
      8000,
    );
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.ms).toBeLessThan(5000);
  });

  it("an upload may pause longer than a small body (its own idle time), then completes", async () => {
    const fw = await s.backend.create();
    const r = await rawExchange(
      s.url,
      (sock) => {
        const head = `POST /v1/upload HTTP/1.1\r\nHost: x\r\nx-ota-firmware-id: ${fw.id}\r\nx-ota-firmware-key: ${fw.key}\r\nContent-Type: application/octet-stream\r\nContent-Length: 8\r\nConnection: close\r\n\r\n`;
        sock.write(`${head}abcd`);
        setTimeout(() => sock.write("efgh"), 700); // > the 300 ms of a small body, < the upload's 1.5 s
      },
      8000,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    expect(r.text).toContain(sha256(Buffer.from("abcdefgh")));
  });

  it("an upload that stalls past its idle time gets 408", async () => {
    const fw = await s.backend.create();
    const r = await rawExchange(
      s.url,
      (sock) => sock.write(`POST /v1/upload HTTP/1.1\r\nHost: x\r\nx-ota-firmware-id: ${fw.id}\r\nx-ota-firmware-key: ${fw.key}\r\nContent-Length: 1000\r\n\r\nabcd`),
      8000,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.ms).toBeGreaterThanOrEqual(1400);
  });

  it("a download asked for with a small body is not cut off when its reader pauses longer than the body idle time", async () => {
    const fw = await s.backend.create();
    await s.backend.allow(fw, "all");
    const image = Buffer.alloc(16 * 1024 * 1024, 3); // more than the socket buffers hold
    const file = join(s.dataDir, "big-image.bin");
    writeFileSync(file, image);
    const hash = await s.backend.upload(fw, file);
    const got = await new Promise<number>((resolve, reject) => {
      const sock = connect(Number(new URL(s.url).port), "127.0.0.1");
      let bytes = 0;
      const guard = setTimeout(() => {
        sock.destroy();
        reject(new Error(`the download did not finish within 10 s (${bytes} bytes so far)`));
      }, 10_000);
      sock.on("data", (d: Buffer) => (bytes += d.length));
      sock.on("close", () => {
        clearTimeout(guard);
        resolve(bytes);
      });
      sock.on("error", () => {});
      sock.on("connect", () => {
        sock.write(`POST /v1/download/${hash} HTTP/1.1\r\nHost: x\r\nx-ota-firmware-id: ${fw.id}\r\nx-ota-device-id: reader\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
        sock.pause(); // a reader that stalls for longer than the 300 ms body idle time
        setTimeout(() => sock.resume(), 1000);
      });
    });
    expect(got).toBeGreaterThan(image.length);
  });

  it("past the connection bound new connections are closed at once, and the log says so", async () => {
    // A server of its own: no client pool's keep-alive connections count against the bound.
    const t = await startTestServer({ maxConnections: 4 });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const sock = connect(Number(new URL(t.url).port), "127.0.0.1");
        sock.on("error", () => {});
        held.push(sock);
        // an answer on it: the server has accepted this one (it stays open, keep-alive)
        await new Promise((resolve, reject) => {
          sock.once("data", resolve);
          sock.once("close", () => reject(new Error(`connection ${i + 1} of 4 was closed before its answer`)));
          sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        });
      }
      const fifth = await rawExchange(t.url, (sock) => sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), 3000);
      expect(fifth.closed).toBe(true);
      expect(fifth.text).toBe("");
      expect(logLines(t).some((l) => l.level === "warn" && String(l.msg).includes("connection limit reached"))).toBe(true);
      for (const sock of held) sock.destroy();
      await new Promise((r) => setTimeout(r, 300)); // the server sees the four go (their FIN), so the bound frees up
      expect((await raw(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      for (const sock of held) sock.destroy();
      await t.stop();
    }
  });
});

describe("serials, deployments and models (item 2)", () => {
  let s: TestServer;
  let file: string;
  let fwHash: string;
  beforeAll(async () => {
    s = await startTestServer();
    file = join(s.dataDir, "image.bin");
    writeFileSync(file, Buffer.from("image for serial checks"));
    fwHash = sha256(Buffer.from("image for serial checks"));
  });
  afterAll(() => s.stop());

  it("a disabled or never-enabled serial gets no deployment, no firewall allow, no check and no download", async () => {
    await s.vendorA.createModel("plain-1"); // no require_activation
    await s.vendorA.addSerials("plain-1", ["NEVER", "OFF", "ON"]);
    await s.vendorA.enableSerial("plain-1", "OFF");
    await s.vendorA.disableSerial("plain-1", "OFF");
    await s.vendorA.enableSerial("plain-1", "ON");
    const up = await s.vendorA.uploadArtifact(file);
    const d = await s.vendorA.createDeployment({ device_sn: ["NEVER", "OFF", "ON"], artifact_uuid: up.artifactUuid });
    expect(d.deployment_accepted).toEqual(["ON"]);
    expect(d.deployment_rejected.map((r) => r.device_sn).sort()).toEqual(["NEVER", "OFF"]);
    expect(d.deployment_rejected.every((r) => /not enabled/.test(r.message))).toBe(true);

    const model = await s.vendorA.model("plain-1");
    const owner = { id: model.id, key: model.key };
    await s.backend.allow(owner, "all"); // even an explicit firewall allow does not let them in
    await s.backend.allow(owner, "OFF");
    for (const sn of ["NEVER", "OFF"]) {
      const dev = { firmwareId: model.id, deviceId: sn };
      expect(await statusOf(s.backend.check(dev))).toEqual({ status: 401, code: "INVALID_AUTH" });
      expect(await statusOf(s.backend.download(dev, fwHash))).toEqual({ status: 401, code: "INVALID_AUTH" });
    }
    expect(await s.backend.check({ firmwareId: model.id, deviceId: "ON" })).toEqual({ status: "update-available", hash: fwHash });
    const reasons = logLines(s).map((l) => l.reason);
    expect(reasons).toContain("serial number is not enabled (registered or disabled)");
  });

  it("a deployment by serial reaches that serial only in the artifact's model, never another product line's", async () => {
    for (const m of ["line-a", "line-b"]) {
      await s.vendorA.createModel(m);
      await s.vendorA.addSerials(m, ["SN1"]);
      await s.vendorA.enableSerial(m, "SN1");
    }
    const b = await s.vendorA.model("line-b");
    await s.backend.allow({ id: b.id, key: b.key }, "all");
    // Without a model the serial is ambiguous: refused, not delivered to both lines.
    const loose = await s.vendorA.uploadArtifact(file, "loose.bin");
    const refused = await s.vendorA.createDeployment({ device_sn: ["SN1"], artifact_uuid: loose.artifactUuid });
    expect(refused.deployment_accepted).toEqual([]);
    expect(refused.deployment_rejected[0]?.message).toMatch(/several models/);
    // With the artifact's model: only line-a's SN1 gets it.
    const forA = await s.vendorA.uploadArtifact(file, "for-a.bin", "line-a");
    expect((await s.vendorA.artifact(forA.artifactUuid)).model).toBe("line-a");
    const ok = await s.vendorA.createDeployment({ device_sn: ["SN1"], artifact_uuid: forA.artifactUuid });
    expect(ok.deployment_accepted).toEqual(["SN1"]);
    const a = await s.vendorA.model("line-a");
    expect(await s.backend.check({ firmwareId: a.id, deviceId: "SN1" })).toEqual({ status: "update-available", hash: fwHash });
    expect(await statusOf(s.backend.check({ firmwareId: b.id, deviceId: "SN1" }))).toEqual({ status: 404, code: "FIRMWARE_NOT_UPLOADED" });
    expect(await statusOf(s.backend.download({ firmwareId: b.id, deviceId: "SN1" }, fwHash))).toEqual({ status: 404, code: "FIRMWARE_NOT_AVAILABLE" });
  });
});

describe("replayed signatures (item 3)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.stop());

  it("refuses a second non-GET request with the same key id and signature (E401-4), whatever its body", async () => {
    const h = signRequest({ ...VENDOR_A, method: "POST", pathWithQuery: "/ota/artifact", epochMs: s.clock.now });
    const post = (name: string) =>
      raw(`${s.url}/ota/artifact`, {
        method: "POST",
        headers: { ...h, "content-type": "application/json" },
        body: JSON.stringify({ artifact_name: name, artifact_md5: md5(name) }),
      });
    expect((await post("first.bin")).status).toBe(200);
    const replay = await post("other-body.bin");
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.text)).toEqual({ code: "E401-4", message: expect.stringMatching(/already used/) });
  });

  it("GET requests may repeat a signature", async () => {
    const h = signRequest({ ...VENDOR_A, method: "GET", pathWithQuery: "/provision/manage/model/", epochMs: s.clock.now });
    expect((await raw(`${s.url}/provision/manage/model/`, { headers: h })).status).toBe(200);
    expect((await raw(`${s.url}/provision/manage/model/`, { headers: h })).status).toBe(200);
  });

  it("the harness's vendor client never signs one path twice with one epoch (a frozen clock still works)", async () => {
    expect(freshEpoch("K", "POST", "/p", 1000)).toBe(1000);
    expect(freshEpoch("K", "POST", "/p", 1000)).toBe(1001);
    expect(freshEpoch("K", "POST", "/q", 1000)).toBe(1000);
    s.clock.now += 1000; // past the epoch the raw requests above signed by hand
    for (let i = 0; i < 3; i++) expect(await s.vendorA.createArtifact("same.bin", md5("same"))).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("activation and shared-secret guessing (item 4)", () => {
  let s: TestServer;
  const LIMIT = { count: 3, windowMs: 60_000 };
  beforeAll(async () => {
    s = await startTestServer({ authFailureLimit: LIMIT });
    await s.vendorA.createModel("act-1");
    await s.vendorA.addSerials("act-1", ["REG", "DIS", "ON"]);
    await s.vendorA.disableSerial("act-1", "DIS");
    await s.vendorA.enableSerial("act-1", "ON");
  });
  afterAll(() => s.stop());

  const activate = (sn: string) =>
    raw(`${s.url}/provision/activate`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ vendor: VENDOR_A.vendor, model: "act-1", sn }).toString(),
    });

  it("a 409 says what the seed says, not the serial's status; failures are rate-limited per address (429)", async () => {
    const reg = await activate("REG");
    const dis = await activate("DIS");
    expect([reg.status, dis.status]).toEqual([409, 409]);
    expect(reg.text).toBe(dis.text);
    expect(reg.text).not.toMatch(/\b(registered|disabled)\b/);
    expect((await activate("NOPE")).status).toBe(404);
    const limited = await activate("ON"); // even a good serial, until the window ends
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    s.clock.now += LIMIT.windowMs;
    expect((await activate("ON")).status).toBe(200);
  });

  it("wrong x-ota-secret answers are rate-limited too", async () => {
    const t = await startTestServer({ authFailureLimit: LIMIT, secret: "the-shared-secret" });
    try {
      const create = (secret: string) => raw(`${t.url}/v1/create`, { method: "POST", headers: { "x-ota-secret": secret } });
      for (let i = 0; i < LIMIT.count; i++) expect((await create("guess")).status).toBe(401);
      const limited = await create("the-shared-secret");
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBeTruthy();
    } finally {
      await t.stop();
    }
  });
});

describe("uploads without OTA_SECRET (item 5)", () => {
  it("on a non-loopback address: a warning at start, and anonymous firmware capped in count and bytes", async () => {
    // Listens on every address, spoken to only over 127.0.0.1.
    const s = await startTestServer({ host: "0.0.0.0", anonymousLimit: { firmware: 2, bytes: 1000 } });
    try {
      expect(logLines(s).some((l) => l.level === "warn" && String(l.msg).includes("OTA_SECRET is unset"))).toBe(true);
      const url = s.url.replace("0.0.0.0", "127.0.0.1");
      const create = () => raw(`${url}/v1/create`, { method: "POST" });
      const fw = JSON.parse((await create()).text) as { id: number; key: string };
      expect((await create()).status).toBe(200);
      const third = await create();
      expect(third.status).toBe(403);
      expect(JSON.parse(third.text).code).toBe("ANONYMOUS_LIMIT");
      const upload = (bytes: Buffer) =>
        raw(`${url}/v1/upload`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id), "x-ota-firmware-key": fw.key }, body: bytes });
      expect((await upload(Buffer.alloc(600, 1))).status).toBe(200);
      const over = await upload(Buffer.alloc(600, 2));
      expect(over.status).toBe(413);
      expect(JSON.parse(over.text).code).toBe("ANONYMOUS_LIMIT");
    } finally {
      await s.stop();
    }
  });

  it("on loopback: the seed's behaviour, no warning and no cap", async () => {
    const s = await startTestServer({ anonymousLimit: { firmware: 1, bytes: 10 } });
    try {
      expect(logLines(s).some((l) => String(l.msg).includes("OTA_SECRET"))).toBe(false);
      for (let i = 0; i < 3; i++) expect((await raw(`${s.url}/v1/create`, { method: "POST" })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe("portal (item 6)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ publicUrl: "https://ota.example.test" });
  });
  afterAll(() => s.stop());

  async function session(): Promise<{ cookie: string; csrf: string }> {
    const c = await portalSignIn(`${s.url}/portal`, VENDOR_A);
    const cookie = `${c.name}=${c.value}`;
    const page = await raw(`${s.url}/portal/artifacts`, { headers: { cookie } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!csrf) throw new Error("no CSRF token on the artifacts page");
    return { cookie, csrf };
  }

  it("refuses a multipart upload whose file part comes before the CSRF token, without waiting for the rest of the body", async () => {
    const { cookie } = await session();
    const boundary = "XbOuNdArY";
    const r = await rawExchange(
      s.url,
      (sock) => {
        sock.write(
          `POST /portal/artifacts HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 250000000\r\n\r\n` +
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        );
        sock.write(Buffer.alloc(256 * 1024, 7)); // and then nothing: the server must not wait for 250 MB
      },
      5000,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 403/);
    expect(r.text).toContain("CSRF");
  });

  it("bounds the number of text fields of a multipart form", async () => {
    const { cookie, csrf } = await session();
    const form = new FormData();
    form.append("csrf", csrf);
    for (let i = 0; i < 40; i++) form.append(`f${i}`, "x".repeat(100));
    form.append("file", new Blob([Buffer.from("tiny")]), "tiny.bin");
    const r = await raw(`${s.url}/portal/artifacts`, { method: "POST", headers: { cookie }, body: form, redirect: "manual" });
    expect(r.status).toBe(303);
    const next = await raw(`${s.url}/portal/artifacts`, { headers: { cookie } });
    expect(next.text).toMatch(/more than 16 text fields/);
    expect(next.text).not.toContain("tiny.bin");
  });

  it("an artifact uploaded on the portal may name its model", async () => {
    await s.vendorA.createModel("pm-1");
    const { cookie, csrf } = await session();
    const form = new FormData();
    form.append("csrf", csrf);
    form.append("model", "pm-1");
    form.append("file", new Blob([Buffer.from("portal image for pm-1")]), "pm.bin");
    expect((await raw(`${s.url}/portal/artifacts`, { method: "POST", headers: { cookie }, body: form, redirect: "manual" })).status).toBe(303);
    const page = await raw(`${s.url}/portal/artifacts`, { headers: { cookie } });
    expect(page.text).toContain('<option value="pm-1">pm-1</option>');
    const uuid = /<tr data-uuid="([^"]+)"><td>pm\.bin</.exec(page.text)?.[1];
    expect(uuid).toBeDefined();
    expect((await s.vendorA.artifact(uuid!)).model).toBe("pm-1");
  });

  it("cookies are Secure when the public URL is https", async () => {
    const form = await raw(`${s.url}/portal/sign-in`);
    expect(form.headers.get("set-cookie")).toMatch(/; Secure/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const signInCookie = form.headers.get("set-cookie")!.split(";")[0]!;
    const r = await raw(`${s.url}/portal/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: signInCookie },
      body: new URLSearchParams({ csrf, key_id: VENDOR_A.keyId, secret: VENDOR_A.secret }).toString(),
      redirect: "manual",
    });
    expect(r.status).toBe(303);
    const sessionCookie = r.headers.getSetCookie().find((c) => c.startsWith("otarig_portal="))!;
    expect(sessionCookie).toMatch(/; Secure/);
  });

  it("the sign-in CSRF token is one the server made (HMAC): a cookie and field the attacker chose do not pass", async () => {
    const token = "attacker-chosen-token";
    const r = await raw(`${s.url}/portal/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `otarig_portal_signin=${token}` },
      body: new URLSearchParams({ csrf: token, key_id: VENDOR_A.keyId, secret: VENDOR_A.secret }).toString(),
      redirect: "manual",
    });
    expect(r.status).toBe(403);
    expect(r.headers.getSetCookie().some((c) => c.startsWith("otarig_portal=") && !c.startsWith("otarig_portal=;"))).toBe(false);
  });

  it("a 404 under /portal carries the portal's security headers", async () => {
    for (const p of ["/portal/no-such-page", "/portal/static/nope.js"]) {
      const r = await raw(`${s.url}${p}`);
      expect(r.status).toBe(404);
      expect(r.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });
});

describe("rate limiter (item 7)", () => {
  it("a full table drops its oldest windows first: a flood of new addresses does not reset a limited one", () => {
    const limiter = new FailureLimiter({ count: 2, windowMs: 60_000 }, 100);
    limiter.fail("victim-of-limit", 0);
    limiter.fail("victim-of-limit", 0);
    for (let i = 0; i < 50; i++) limiter.fail(`flood-${i}`, 1);
    expect(() => limiter.check("victim-of-limit", 2)).toThrow(/too many/);
    for (let i = 50; i < 200; i++) limiter.fail(`flood-${i}`, 3);
    expect(limiter.size).toBe(100); // bounded; by now the oldest (the victim) went first
  });

  it("groups IPv6 addresses by /64", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2::ffff")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("10.1.2.3")).toBe("10.1.2.3");
  });

  describe("over HTTP", () => {
    const LIMIT = { count: 2, windowMs: 60_000 };
    let s: TestServer | undefined;
    afterEach(async () => {
      await s?.stop();
      s = undefined;
    });

    const badSignature = (url: string, xff?: string) =>
      raw(`${url}/ota/artifact`, {
        method: "POST",
        headers: { authorization: `ALLXON-SIG1 Credential="${VENDOR_A.keyId}",Signature="${"0".repeat(64)}"`, "x-allxon-epoch": String(Date.now()), ...(xff ? { "x-forwarded-for": xff } : {}) },
        body: "{}",
      });

    it("portal sign-ins and API signatures count in separate buckets", async () => {
      s = await startTestServer({ authFailureLimit: LIMIT });
      for (let i = 0; i < LIMIT.count; i++) expect((await badSignature(s.url)).status).toBe(401);
      expect((await badSignature(s.url)).status).toBe(429);
      // the signature bucket is full; a portal sign-in from the same address still works
      await expect(portalSignIn(`${s.url}/portal`, VENDOR_A)).resolves.toMatchObject({ name: "otarig_portal" });
    });

    it("X-Forwarded-For is ignored unless the proxy is trusted (off by default)", async () => {
      s = await startTestServer({ authFailureLimit: LIMIT });
      for (let i = 0; i < LIMIT.count; i++) expect((await badSignature(s.url, `203.0.113.${i}`)).status).toBe(401);
      expect((await badSignature(s.url, "203.0.113.99")).status).toBe(429);
    });

    it("behind a trusted proxy the forwarded client counts, IPv6 clients by /64", async () => {
      s = await startTestServer({ authFailureLimit: LIMIT, trustedProxies: ["127.0.0.1"] });
      for (let i = 0; i < LIMIT.count; i++) expect((await badSignature(s.url, "2001:db8:5:6::1")).status).toBe(401);
      expect((await badSignature(s.url, "2001:db8:5:6::2")).status).toBe(429); // same /64
      expect((await badSignature(s.url, "2001:db8:5:7::1")).status).toBe(401); // another /64
      expect((await badSignature(s.url, "198.51.100.7")).status).toBe(401); // another client
    });
  });
});

describe("client aborts (item 8)", () => {
  it("a client that goes away in the middle of a small body is the request line's `aborted`, not an error", async () => {
    const s = await startTestServer();
    try {
      await rawExchange(
        s.url,
        (sock) => {
          sock.write("POST /provision/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nvendor=acme");
          setTimeout(() => sock.destroy(), 100);
        },
        2000,
      );
      await until("the request's log line", () => logLines(s).some((l) => l.msg === "request" && l.path === "/provision/activate"));
      await new Promise((r) => setTimeout(r, 50));
      const line = logLines(s).find((l) => l.msg === "request" && l.path === "/provision/activate");
      expect(line?.aborted).toBe(true);
      expect(logLines(s).filter((l) => l.level === "error")).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});

describe("settings", () => {
  it("reads the new variables, and names the variable of a bad value", () => {
    const c = configFromEnv({
      OTA_BODY_IDLE: "5s",
      OTA_UPLOAD_IDLE: "3m",
      OTA_MAX_CONNECTIONS: "200",
      OTA_TRUSTED_PROXIES: "10.0.0.1, ::1",
      OTA_ANON_FIRMWARE_MAX: "7",
      OTA_ANON_BYTES_MAX: "1G",
    });
    expect(c).toMatchObject({
      bodyIdleMs: 5000,
      uploadIdleMs: 180_000,
      maxConnections: 200,
      trustedProxies: ["10.0.0.1", "::1"],
      anonymousLimit: { firmware: 7, bytes: 1024 ** 3 },
    });
    expect(() => configFromEnv({ OTA_MAX_CONNECTIONS: "lots" })).toThrow(/OTA_MAX_CONNECTIONS/);
    expect(() => configFromEnv({ OTA_ANON_BYTES_MAX: "big" })).toThrow(/OTA_ANON_BYTES_MAX/);
    expect(() => configFromEnv({ OTA_BODY_IDLE: "soon" })).toThrow(/OTA_BODY_IDLE/);
  });
});
