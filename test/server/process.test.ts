// `npm run server` as a child process, the way the harness starts it: the listening line,
// SIGTERM, a restart with data intact, and SIGKILL in the middle of an upload.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { BackendClient } from "../../harness/ota/backend-client.ts";
import { VendorClient } from "../../harness/ota/vendor-client.ts";
import { tempDir } from "./helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const KEYS = "acme:AKIDACME:c2VjcmV0LWE=";

interface Spawned {
  child: ChildProcess;
  url: string;
  lines: string[];
  exit: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** Starts the server like `npm run server` does and waits for its listening line. */
async function spawnServer(dataDir: string, env: Record<string, string> = {}): Promise<Spawned> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, BACKEND_PORT: "0", OTA_DATA_DIR: dataDir, OTA_API_KEYS: KEYS, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (parsed.msg === "listening" && parsed.url) resolve(parsed.url);
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    void exit.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url, lines, exit };
}

describe("server process", () => {
  it("prints one listening line with its URL, serves, logs JSON per request, and exits 0 on SIGTERM", async () => {
    const s = await spawnServer(tempDir(), { OTA_SECRET: "very-secret" });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.lines.filter((l) => l.includes('"msg":"listening"'))).toHaveLength(1);
    const client = new BackendClient({ baseUrl: s.url, secret: "very-secret" });
    expect((await client.health()).ok).toBe(true);
    await client.create();
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    const requests = s.lines.map((l) => JSON.parse(l) as { msg: string; path?: string }).filter((l) => l.msg === "request");
    expect(requests.map((r) => r.path)).toEqual(["/healthz", "/v1/create"]);
    expect(s.lines.join("\n")).not.toContain("very-secret");
    expect(s.lines.join("\n")).not.toContain("c2VjcmV0LWE=");
  });

  it("keeps everything across a restart", async () => {
    const dataDir = tempDir();
    const file = path.join(ROOT, "fixtures/firmware/app-1.1.0.bin");
    let s = await spawnServer(dataDir);
    let backend = new BackendClient({ baseUrl: s.url });
    const fw = await backend.create();
    await backend.allow(fw, "dev-1");
    const hash = await backend.upload(fw, file);
    const vendor = new VendorClient({ baseUrl: s.url, keyId: "AKIDACME", secret: "c2VjcmV0LWE=" });
    const artifact = await vendor.uploadArtifact(file);
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);

    s = await spawnServer(dataDir);
    backend = new BackendClient({ baseUrl: s.url });
    expect(await backend.check({ firmwareId: fw.id, deviceId: "dev-1" }, "0".repeat(64))).toEqual({ status: "update-available", hash });
    const dl = await backend.download({ firmwareId: fw.id, deviceId: "dev-1" }, hash);
    expect(createHash("sha256").update(dl.body).digest("hex")).toBe(hash);
    const info = await new VendorClient({ baseUrl: s.url, keyId: "AKIDACME", secret: "c2VjcmV0LWE=" }).artifact(artifact.artifactUuid);
    expect(info).toMatchObject({ uploaded: true, sha256: artifact.sha256 });
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
  });

  it("SIGKILL mid-upload leaves no partial artifact, and the server starts clean", async () => {
    const dataDir = tempDir();
    let s = await spawnServer(dataDir);
    const backend = new BackendClient({ baseUrl: s.url });
    const fw = await backend.create();

    // Send the head of a multipart body declaring 10 MB, a first chunk, then hold the connection.
    const boundary = "xyzzy";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`;
    const req = http.request(`${s.url}/v1/upload`, {
      method: "POST",
      headers: {
        "x-ota-firmware-id": String(fw.id),
        "x-ota-firmware-key": fw.key,
        "content-type": `multipart/form-data; boundary=${boundary}`,
        "content-length": head.length + 10_000_000 + `\r\n--${boundary}--\r\n`.length,
      },
    });
    req.on("error", () => {}); // the server dies under it
    req.write(head);
    req.write(Buffer.alloc(256 * 1024, 7));
    // Wait until the server has started writing the temp file, then kill it.
    const tmp = path.join(dataDir, "tmp");
    while (readdirSync(tmp).length === 0) await new Promise((r) => setTimeout(r, 20));
    s.child.kill("SIGKILL");
    await s.exit;
    req.destroy();
    expect(readdirSync(path.join(dataDir, "blobs"))).toEqual([]);

    s = await spawnServer(dataDir);
    expect(readdirSync(tmp)).toEqual([]); // the crashed upload's temp file is gone
    const again = new BackendClient({ baseUrl: s.url });
    await again.allow(fw, "all");
    const err = await again.check({ firmwareId: fw.id, deviceId: "d" }).catch((e: unknown) => e as { status: number; code: string });
    expect(err).toMatchObject({ status: 404, code: "FIRMWARE_NOT_UPLOADED" });
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
  });
});
