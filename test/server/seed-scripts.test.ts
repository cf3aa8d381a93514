// Acceptance: the seed 000 sample scripts (curl + openssl), with only the host, key, file and
// the values from the previous step filled in, run against `npm run server`.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VendorClient } from "../../harness/ota/vendor-client.ts";
import { tempDir } from "./helpers.ts";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const SCRIPTS = path.join(ROOT, "scripts/seed-000");
const KEY = { vendor: "acme", keyId: "APIAEXAMPLEKEYID", secret: "EPqeEGVcYf6Zpo+6yCqHeoYJSrnDykc9gPShOA==" };

/** Copies a sample script, setting its configuration variables and pointing it at `url`. */
function fill(name: string, dir: string, url: string, values: Record<string, string>): string {
  let text = readFileSync(path.join(SCRIPTS, name), "utf8").replaceAll("https://us.api.allxon.com", url);
  for (const [k, v] of Object.entries(values)) {
    const re = new RegExp(`^${k}="[^"]*"`, "m");
    expect(text, `${name} has ${k}`).toMatch(re);
    text = text.replace(re, `${k}="${v}"`);
  }
  const out = path.join(dir, name);
  writeFileSync(out, text, { mode: 0o755 });
  return out;
}

async function bash(script: string, cwd: string): Promise<string> {
  const { stdout } = await run("bash", [script], { cwd });
  return stdout;
}

/** The JSON the script's curl printed after its own "Requesting…" line. */
function jsonOf(stdout: string): Record<string, string> {
  return JSON.parse(stdout.slice(stdout.indexOf("{"))) as Record<string, string>;
}

describe("seed 000 sample scripts against npm run server", () => {
  let child: ChildProcess;
  let url: string;
  const dataDir = tempDir();
  const work = tempDir("otarig-seed000-");
  const fileName = "a19ae4e0ced9bddd59832e926004b4d2-Allxon_OTA_Artifact-L-all.tar.gz";
  // Over 1 MiB, so curl -T sends `Expect: 100-continue` as it would for a real artifact.
  const data = Buffer.alloc(1_500_000, 0).map((_, i) => (i * 31) % 256);

  beforeAll(async () => {
    writeFileSync(path.join(work, fileName), data);
    child = spawn("npm", ["run", "--silent", "server"], {
      cwd: ROOT,
      env: { ...process.env, BACKEND_PORT: "0", OTA_DATA_DIR: dataDir, OTA_API_KEYS: `${KEY.vendor}:${KEY.keyId}:${KEY.secret}` },
      stdio: ["ignore", "pipe", "inherit"],
      // Its own process group: npm's `sh -c` does not pass SIGTERM on to node, the group does.
      detached: true,
    });
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.includes('"msg":"listening"')) resolve((JSON.parse(line) as { url: string }).url);
      });
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
  });

  afterAll(async () => {
    // stdout closes only when every process holding it (npm, sh, node) has exited.
    const closed = new Promise((r) => child.stdout!.once("close", r));
    process.kill(-child.pid!, "SIGTERM");
    await closed;
  });

  it("has curl and openssl", async () => {
    await expect(run("curl", ["--version"])).resolves.toBeTruthy();
    await expect(run("openssl", ["version"])).resolves.toBeTruthy();
  });

  it("create_artifact.sh -> get_upload_url.sh -> upload_artifact.sh stores the artifact", async () => {
    const md5 = createHash("md5").update(data).digest("hex");
    const created = jsonOf(await bash(fill("create_artifact.sh", work, url, { keyid: KEY.keyId, secret: KEY.secret, file_name: fileName }), work));
    expect(created.artifact_uuid).toMatch(/^[0-9a-f-]{36}$/);

    const got = jsonOf(
      await bash(
        fill("get_upload_url.sh", work, url, { keyid: KEY.keyId, secret: KEY.secret, file_name: fileName, artifact_uuid: created.artifact_uuid! }),
        work,
      ),
    );
    expect(got.content_md5).toBe(Buffer.from(md5, "hex").toString("base64"));
    expect(got.content_type).toBe("application/octet-stream");
    expect(got.upload_url!.startsWith(`${url}/ota/upload/${created.artifact_uuid}?`)).toBe(true);

    const out = await bash(fill("upload_artifact.sh", work, url, { upload_url: got.upload_url!, content_md5: got.content_md5!, file_name: fileName }), work);
    expect(out.trim()).toBe("Uploading artifact file..."); // 200 with an empty body

    const vendor = new VendorClient({ baseUrl: url, keyId: KEY.keyId, secret: KEY.secret });
    const info = await vendor.artifact(created.artifact_uuid!);
    expect(info).toMatchObject({ artifact_name: fileName, artifact_md5: md5, uploaded: true, size: data.length });
    expect(info.sha256).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("the same upload with a wrong Content-MD5 fails and leaves nothing behind", async () => {
    const other = "other-artifact.bin";
    const otherData = Buffer.from("bytes that must never be stored ".repeat(1000));
    writeFileSync(path.join(work, other), otherData);
    const created = jsonOf(await bash(fill("create_artifact.sh", work, url, { keyid: KEY.keyId, secret: KEY.secret, file_name: other }), work));
    const got = jsonOf(
      await bash(
        fill("get_upload_url.sh", work, url, { keyid: KEY.keyId, secret: KEY.secret, file_name: other, artifact_uuid: created.artifact_uuid! }),
        work,
      ),
    );
    const wrongMd5 = Buffer.from(createHash("md5").update("something else").digest()).toString("base64");
    const out = await bash(fill("upload_artifact.sh", work, url, { upload_url: got.upload_url!, content_md5: wrongMd5, file_name: other }), work);
    expect(jsonOf(out)).toMatchObject({ code: "E400-5" });

    const vendor = new VendorClient({ baseUrl: url, keyId: KEY.keyId, secret: KEY.secret });
    expect(await vendor.artifact(created.artifact_uuid!)).toMatchObject({ uploaded: false, sha256: null });
    expect(readdirSync(path.join(dataDir, "blobs"))).not.toContain(createHash("sha256").update(otherData).digest("hex"));
    expect(readdirSync(path.join(dataDir, "tmp"))).toEqual([]);
  });
});
