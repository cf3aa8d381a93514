// Container mode against the real engine (dockerd runs in CI, DESIGN §6): the reference server
// image built with no registry, started through testcontainers, reached through its mapped port.
// These tests do not skip: with no engine they fail, as container mode would.
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfraError } from "../../harness/core/errors.ts";
import { removeStaleContainers, startContainerServer, type ContainerOtaServer } from "../../harness/server/container-server.ts";
import { containerEngineAvailable, engineRequest, listContainers } from "../../harness/server/engine.ts";
import { ensureServerImage } from "../../harness/server/image/build.ts";
import { portalSignIn } from "../../harness/ota/portal-client.ts";

const runId = `test-${process.pid}-${randomBytes(3).toString("hex")}`;
const dirs: string[] = [];
const started: ContainerOtaServer[] = [];

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "otarig-container-test-"));
  dirs.push(d);
  return d;
}

async function runContainers(id = runId) {
  return listContainers(["otarig=1", `otarig.run=${id}`]);
}

async function createFirmware(url: string): Promise<{ id: number; key: string }> {
  const res = await fetch(`${url}/v1/create`, { method: "POST" });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/json/);
  const body = (await res.json()) as { id: number; key: string };
  expect(body).toEqual({ id: expect.any(Number), key: expect.any(String) });
  return body;
}

let image = "";

beforeAll(async () => {
  const t0 = Date.now();
  const built = await ensureServerImage();
  image = built.tag;
  console.log(`server image ${image}: ${built.built ? `built in ${((Date.now() - t0) / 1000).toFixed(1)} s` : "already there"}`);
}, 300_000);

afterAll(async () => {
  for (const s of started) await s.stop().catch(() => {});
  await removeStaleContainers(runId);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("containerEngineAvailable", () => {
  it("is true with dockerd running here", async () => {
    expect(await containerEngineAvailable()).toBe(true);
  });

  it("is false, and quickly, for a bogus DOCKER_HOST", async () => {
    const t0 = Date.now();
    expect(await containerEngineAvailable({ env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } })).toBe(false);
    expect(await containerEngineAvailable({ env: { DOCKER_HOST: "tcp://127.0.0.1:1" } })).toBe(false);
    expect(await containerEngineAvailable({ env: { DOCKER_HOST: "ssh://nobody@nowhere" } })).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("follows DOCKER_HOST in the process environment", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///nonexistent/docker.sock";
    try {
      expect(await containerEngineAvailable()).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    expect(await containerEngineAvailable()).toBe(true);
  });
});

describe("server image", () => {
  it("is tagged by content hash and found again without a rebuild", async () => {
    expect(image).toMatch(/^otarig-server:[0-9a-f]{12}$/);
    const again = await ensureServerImage();
    expect(again).toMatchObject({ tag: image, built: false });
    const res = await engineRequest<{ Config: { Labels: Record<string, string> } }>("GET", `/images/${image}/json`);
    expect(res.status).toBe(200);
    expect(res.body.Config.Labels.otarig).toBe("1");
  });
});

describe("startContainerServer (reference server)", () => {
  let server: ContainerOtaServer;
  const logs: string[] = [];
  let dataDir = "";

  beforeAll(async () => {
    dataDir = tempDir();
    server = await startContainerServer({ runId, dataDir, onLog: (l) => logs.push(l) });
    started.push(server);
  }, 120_000);

  it("answers /healthz and the API through the mapped port on 127.0.0.1", async () => {
    expect(server.mode).toBe("container");
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.image).toBe(image);
    expect(server.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(server.credentials.apiKey?.keyId).toBeTruthy();

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });

    await createFirmware(server.url);
  });

  it("serves the portal from the bundle, its assets included (no external ones)", async () => {
    const page = await fetch(`${server.url}/portal/sign-in`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<label>API key id <input name="key_id"/);
    expect((await fetch(`${server.url}/portal/static/portal.js`)).status).toBe(200);
    const signIn = await portalSignIn(`${server.url}/portal`, server.credentials.apiKey!);
    expect(signIn.name).toBe("otarig_portal");
  });

  it("streams the container's log lines (listening first)", async () => {
    expect(logs.some((l) => l.includes('"listening"'))).toBe(true);
    // request lines arrive through the engine's log stream a moment after the answer
    await expect.poll(() => logs.some((l) => l.includes("/v1/create")), { timeout: 5000 }).toBe(true);
    // no secret in the log
    expect(logs.join("\n")).not.toContain(server.credentials.apiKey!.secret);
  });

  it("labels the container and publishes on 127.0.0.1 only", async () => {
    const res = await engineRequest<{
      Config: { Labels: Record<string, string>; Env: string[] };
      HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]>; Binds: string[] };
    }>("GET", `/containers/${server.containerId}/json`);
    expect(res.status).toBe(200);
    expect(res.body.Config.Labels).toMatchObject({ otarig: "1", "otarig.run": runId, "otarig.pid": String(process.pid) });
    expect(res.body.HostConfig.PortBindings["1337/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(server.hostPort) }]);
    expect(res.body.HostConfig.Binds).toEqual([`${dataDir}:/data:rw`]);
    expect(res.body.Config.Env).toContain(`OTA_PUBLIC_URL=${server.url}`);
    expect((await runContainers()).map((c) => c.Id)).toContain(server.containerId);
  });

  it("stop() removes the container; start() brings the server back on the same URL with its data", async () => {
    const fw = await createFirmware(server.url);
    const h = { "x-ota-firmware-id": String(fw.id), "x-ota-firmware-key": fw.key };
    expect((await fetch(`${server.url}/v1/firewall/allow`, { method: "POST", headers: { ...h, "content-type": "application/json" }, body: JSON.stringify({ device_id: "all" }) })).status).toBe(200);
    const form = new FormData();
    const bytes = randomBytes(4096);
    form.append("firmware", new Blob([bytes]), "app.bin");
    const up = await fetch(`${server.url}/v1/upload`, { method: "POST", headers: h, body: form });
    expect(up.status).toBe(200);
    const { hash } = (await up.json()) as { hash: string };
    expect(hash).toMatch(/^[0-9a-f]{64}$/);

    const url = server.url;
    const firstId = server.containerId;
    await server.stop();
    expect(await runContainers()).toEqual([]);
    const gone = await engineRequest("GET", `/containers/${firstId}/json`);
    expect(gone.status).toBe(404);
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();

    await server.start();
    expect(server.url).toBe(url);
    expect(server.containerId).not.toBe(firstId);
    const check = await fetch(`${server.url}/v1/check`, { method: "POST", headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "dev-1" } });
    expect(check.status).toBe(200);
    expect(await check.json()).toEqual({ hash });
    const dl = await fetch(`${server.url}/v1/download/${hash}`, { headers: { "x-ota-firmware-id": String(fw.id), "x-ota-device-id": "dev-1" } });
    expect(dl.status).toBe(200);
    expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);
  }, 60_000);

  it("stop() twice is harmless and leaves nothing behind", async () => {
    await server.stop();
    await server.stop();
    expect(await runContainers()).toEqual([]);
  });
});

describe("startContainerServer (failures and user images)", () => {
  it("a server that exits at start: InfraError with its last log lines, container removed", async () => {
    const id = `${runId}-bad`;
    const t0 = Date.now();
    const err = await startContainerServer({
      runId: id,
      dataDir: tempDir(),
      onLog: () => {},
      env: { BACKEND_PORT: "not-a-port" },
      startTimeoutMs: 20_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/failed to start/);
    expect((err as Error).message).toMatch(/bad configuration/);
    expect(Date.now() - t0).toBeLessThan(15_000); // fails when the container exits, not at the timeout
    expect(await runContainers(id)).toEqual([]);
  }, 60_000);

  it("a server that never becomes ready: InfraError after the timeout, container removed", async () => {
    const id = `${runId}-slow`;
    const err = await startContainerServer({
      runId: id,
      dataDir: tempDir(),
      onLog: () => {},
      wait: { log: "this line never comes" },
      startTimeoutMs: 3000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/"listening"/); // the output it did print
    expect(await runContainers(id)).toEqual([]);
  }, 60_000);

  it("runs a user's image with its port, env and an HTTP wait", async () => {
    const id = `${runId}-user`;
    const logs: string[] = [];
    const server = await startContainerServer({
      runId: id,
      dataDir: tempDir(),
      onLog: (l) => logs.push(l),
      image,
      port: 8080,
      env: { BACKEND_HOST: "0.0.0.0", BACKEND_PORT: "8080", OTA_DATA_DIR: "/tmp/data" },
      wait: { http: "/healthz" },
    });
    started.push(server);
    try {
      expect(server.image).toBe(image);
      expect(server.credentials).toEqual({});
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await runContainers(id)).length).toBe(1);
    } finally {
      await server.stop();
    }
    expect(await runContainers(id)).toEqual([]);
  }, 60_000);

  it("a user's image that is not there: InfraError naming it, nothing left", async () => {
    const id = `${runId}-noimage`;
    const err = await startContainerServer({
      runId: id,
      dataDir: tempDir(),
      onLog: () => {},
      image: "otarig-test-no-such-image:0",
      startTimeoutMs: 10_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain("otarig-test-no-such-image:0");
    expect(await runContainers(id)).toEqual([]);
  }, 60_000);
});

describe("restart when the host port was taken meanwhile", () => {
  it("start() moves to a new port and updates url", async () => {
    const id = `${runId}-port`;
    const server = await startContainerServer({ runId: id, dataDir: tempDir(), onLog: () => {} });
    started.push(server);
    const oldUrl = server.url;
    await server.stop();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(server.hostPort, "127.0.0.1", resolve));
    try {
      await server.start();
      expect(server.url).not.toBe(oldUrl);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(await runContainers(id)).toHaveLength(1); // the attempt on the taken port left nothing
    } finally {
      squatter.close();
      await server.stop();
    }
  }, 60_000);
});

describe("removeStaleContainers", () => {
  it("removes a run's containers, and stopped otarig containers of any run", async () => {
    const id = `${runId}-stale`;
    const server = await startContainerServer({ runId: id, dataDir: tempDir(), onLog: () => {} });
    started.push(server);
    // A leftover of a harness process that is gone (a pid that cannot exist), never started.
    const created = await engineRequest<{ Id: string }>("POST", `/containers/create`, {
      body: { Image: image, Labels: { otarig: "1", "otarig.run": `${id}-dead`, "otarig.pid": "2147483646", "otarig.host": hostname() } },
    });
    expect(created.status).toBe(201);
    // One of a live harness (this process): left alone without a runId.
    const mine = await engineRequest<{ Id: string }>("POST", `/containers/create`, {
      body: { Image: image, Labels: { otarig: "1", "otarig.run": `${id}-mine`, "otarig.pid": String(process.pid), "otarig.host": hostname() } },
    });
    expect(mine.status).toBe(201);
    expect(await runContainers(`${id}-dead`)).toHaveLength(1);

    const removedAll = await removeStaleContainers();
    expect(removedAll).toContain(created.body.Id);
    expect(removedAll).not.toContain(mine.body.Id);
    expect(await removeStaleContainers(`${id}-mine`)).toEqual([mine.body.Id]);
    expect(removedAll).not.toContain(server.containerId); // running, and its harness (us) is alive
    expect(await runContainers(id)).toHaveLength(1);

    expect(await removeStaleContainers(id)).toEqual([server.containerId]);
    expect(await runContainers(id)).toEqual([]);
    await server.stop(); // its container is already gone: no error
  }, 60_000);
});
