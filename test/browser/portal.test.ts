// The portal in real Chromium (playwright-core, the system's browser): sign-in, models and
// serials, artifact upload, deployments with a live page, devices; CSRF, wrong sign-ins and
// their rate limit, session expiry, and vendor/device text rendered as text, never markup.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BrowserSession } from "../../harness/browser/session.ts";
import { ProvisionClient } from "../../harness/ota/provision-client.ts";
import { raw, startTestServer, VENDOR_A, type TestServer } from "../server/helpers.ts";

// Temporary folders of this file, removed when its tests are done.
const made: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const SESSION_MS = 60_000;
const FAILURES = 3;

describe("the portal in Chromium", () => {
  let s: TestServer;
  let browser: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    s = await startTestServer({ portalSessionMs: SESSION_MS, authFailureLimit: { count: FAILURES, windowMs: 60_000 } });
    browser = await BrowserSession.launch();
    page = browser.page;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });
  afterEach(async () => {
    await page.context().clearCookies();
  });

  async function signIn(keyId = VENDOR_A.keyId, secret = VENDOR_A.secret): Promise<void> {
    await page.goto(`${s.url}/portal/`);
    await page.getByLabel("API key id").fill(keyId);
    await page.getByLabel("API secret").fill(secret);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  it("signs in with a vendor key into an HttpOnly, SameSite=Strict session cookie that expires; signs out", async () => {
    await signIn();
    await page.getByRole("heading", { name: "Models" }).waitFor();
    const cookie = (await page.context().cookies()).find((c) => c.name === "otarig_portal");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/portal" });
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000);
    expect(cookie!.expires).toBeLessThanOrEqual(Date.now() / 1000 + SESSION_MS / 1000 + 5);
    expect(await page.evaluate("document.cookie")).not.toContain("otarig_portal="); // HttpOnly: not readable by scripts
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.goto(`${s.url}/portal/models`);
    expect(new URL(page.url()).pathname).toBe("/portal/sign-in");
  });

  it("models and serials: create, add, enable (activation window), disable; statuses shown", async () => {
    await signIn();
    await page.getByLabel("Model name").fill("cam-9");
    await page.getByRole("button", { name: "Create model" }).click();
    await page.getByText("Model cam-9 created").waitFor();
    await page.getByLabel("Serial numbers").fill("S-1\nS-2");
    await page.getByRole("button", { name: "Add serial numbers" }).click();
    const status = (sn: string) => page.getByRole("row", { name: sn }).getByRole("cell").nth(1);
    expect(await status("S-1").innerText()).toBe("registered");
    await page.getByRole("button", { name: "Enable S-1" }).click();
    expect(await status("S-1").innerText()).toBe("enabled");
    expect(await s.vendorA.serialStatus("cam-9", "S-1")).toBe("enabled");
    // the device activates; re-enabling from the portal revokes its CIK
    const device = new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "cam-9" });
    const cik = await device.activate("S-1");
    await page.reload();
    expect(await status("S-1").innerText()).toBe("activated");
    await page.getByRole("button", { name: "Enable S-1" }).click();
    expect(await status("S-1").innerText()).toBe("enabled");
    expect((await raw(`${s.url}/provision/download?vendor=${VENDOR_A.vendor}&model=cam-9`, { headers: { "x-exosite-cik": cik } })).status).toBe(401);
    await page.getByRole("button", { name: "Disable S-2" }).click();
    expect(await status("S-2").innerText()).toBe("disabled");
    // another vendor's model looks like a missing one
    await page.goto(`${s.url}/portal/models/nope`);
    await page.getByRole("alert").getByText("No such model").waitFor();
  });

  it("uploads an artifact stored as the signed flow stores it, deploys it, and the deployment page follows the device live", async () => {
    const data = Buffer.from("portal upload image ".repeat(500));
    const file = path.join(tempDir("otarig-portal-"), "fw-2.0.bin");
    writeFileSync(file, data);
    await s.vendorA.createModel("gw-9");
    await s.vendorA.addSerials("gw-9", ["G-1"]);
    await s.vendorA.enableSerial("gw-9", "G-1");
    const cik = await new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "gw-9" }).activate("G-1");
    const firmwareId = (await s.vendorA.model("gw-9")).id;

    await signIn();
    await page.getByRole("link", { name: "Artifacts" }).click();
    await page.getByLabel("Firmware file").setInputFiles(file);
    await page.getByRole("button", { name: "Upload" }).click();
    await page.getByText(`Uploaded fw-2.0.bin (${data.length} bytes, sha256 ${sha256(data)})`).waitFor();
    const row = page.getByRole("row", { name: "fw-2.0.bin" });
    expect(await row.innerText()).toContain(md5(data));
    const uuid = await row.getAttribute("data-uuid");
    // the signed API sees exactly what its own three-step upload would have stored
    expect(await s.vendorA.artifact(uuid!)).toEqual({ artifact_uuid: uuid, artifact_name: "fw-2.0.bin", artifact_md5: md5(data), sha256: sha256(data), size: data.length, uploaded: true });
    expect(readFileSync(path.join(s.dataDir, "blobs", sha256(data)))).toEqual(data);

    await page.getByRole("link", { name: "Deployments" }).click();
    await page.getByLabel("Artifact").selectOption(uuid!);
    await page.getByLabel("Devices").fill("G-1\nG-404");
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.getByRole("alert").getByText("G-404: unknown device").waitFor();
    const cell = page.getByRole("row", { name: "G-1" }).getByRole("cell").nth(1);
    expect(await cell.innerText()).toBe("processing");
    const device = { firmwareId, deviceId: "G-1", cik };
    expect(await s.backend.check(device, "0".repeat(64))).toEqual({ status: "update-available", hash: sha256(data) });
    await s.backend.status(device, { hash: sha256(data), state: "success", message: "booted 2.0" });
    // no reload: the page's script picks the report up
    await page.getByRole("row", { name: "G-1" }).getByRole("cell", { name: "success", exact: true }).waitFor({ timeout: 10_000 });
    await page.getByText("1 of 1 device(s) finished").waitFor();

    await page.getByRole("link", { name: "Devices" }).click();
    const dev = await page.getByRole("row", { name: "G-1" }).innerText();
    expect(dev).toContain("activated");
    expect(dev).toContain("success");
    expect(dev).toContain(sha256(data));
  });

  it("refuses a form whose CSRF token is missing or wrong (403), and changes nothing", async () => {
    await signIn();
    await page.getByLabel("Model name").fill("forged");
    await page.locator('form:has(button:text("Create model")) input[name="csrf"]').evaluate((el) => ((el as unknown as { value: string }).value = "forged-token"));
    const answer = page.waitForResponse((r) => r.url().endsWith("/portal/models") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Create model" }).click();
    expect((await answer).status()).toBe(403);
    await page.getByRole("alert").getByText("invalid or missing CSRF token").waitFor();
    // a cross-site style post with the session cookie but no token
    const cookie = (await page.context().cookies()).find((c) => c.name === "otarig_portal")!;
    const r = await raw(`${s.url}/portal/models`, {
      method: "POST",
      headers: { cookie: `otarig_portal=${cookie.value}`, "content-type": "application/x-www-form-urlencoded" },
      body: "model=forged2",
    });
    expect(r.status).toBe(403);
    expect((await s.vendorA.signed("GET", "/provision/manage/model/")).toString()).not.toMatch(/forged/);
    // the upload form (multipart) carries its token as a field: a wrong one stores nothing
    const bytes = Buffer.from("forged upload bytes");
    const file = path.join(tempDir("otarig-portal-"), "forged.bin");
    writeFileSync(file, bytes);
    await page.goto(`${s.url}/portal/artifacts`);
    await page.locator('form[enctype="multipart/form-data"] input[name="csrf"]').evaluate((el) => ((el as unknown as { value: string }).value = "forged-token"));
    await page.getByLabel("Firmware file").setInputFiles(file);
    const upload = page.waitForResponse((res) => res.url().endsWith("/portal/artifacts") && res.request().method() === "POST");
    await page.getByRole("button", { name: "Upload" }).click();
    expect((await upload).status()).toBe(403);
    expect(existsSync(path.join(s.dataDir, "blobs", sha256(bytes)))).toBe(false);
    expect(readdirSync(path.join(s.dataDir, "tmp"))).toEqual([]);
    await page.goto(`${s.url}/portal/artifacts`);
    expect(await page.getByText("forged.bin").count()).toBe(0);
        // the sign-in form has its own token (login CSRF): right credentials without it get no session
    const login = await raw(`${s.url}/portal/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: "guessed", key_id: VENDOR_A.keyId, secret: VENDOR_A.secret }).toString(),
    });
    expect(login.status).toBe(403);
    expect(login.headers.get("set-cookie") ?? "").not.toMatch(/otarig_portal=[^;]/);
  });

  it("a wrong sign-in gets one answer whatever was wrong, then 429 with Retry-After", async () => {
    const limited = await startTestServer({ authFailureLimit: { count: FAILURES, windowMs: 60_000 } });
    try {
      const messages: string[] = [];
      for (const [keyId, secret] of [[VENDOR_A.keyId, "wrong"], ["AKIDNOBODY", VENDOR_A.secret], [VENDOR_A.keyId, ""]] as const) {
        await page.goto(`${limited.url}/portal/sign-in`);
        await page.getByLabel("API key id").fill(keyId);
        if (secret) await page.getByLabel("API secret").fill(secret);
        else await page.getByLabel("API secret").evaluate((el) => el.removeAttribute("required"));
        const answer = page.waitForResponse((r) => r.url().endsWith("/portal/sign-in") && r.request().method() === "POST");
        await page.getByRole("button", { name: "Sign in" }).click();
        expect((await answer).status()).toBe(401);
        messages.push(await page.getByRole("alert").innerText());
      }
      expect(new Set(messages)).toEqual(new Set(["Sign-in failed: unknown key id or wrong secret."]));
      expect(limited.logs.join("\n")).not.toContain(VENDOR_A.secret);
      await page.goto(`${limited.url}/portal/sign-in`);
      await page.getByLabel("API key id").fill(VENDOR_A.keyId);
      await page.getByLabel("API secret").fill(VENDOR_A.secret);
      const answer = page.waitForResponse((r) => r.url().endsWith("/portal/sign-in") && r.request().method() === "POST");
      await page.getByRole("button", { name: "Sign in" }).click();
      const res = await answer;
      expect(res.status()).toBe(429);
      expect(Number(res.headers()["retry-after"])).toBeGreaterThan(0);
      await page.getByRole("alert").getByText(/Too many failed sign-ins from your address: .*retry in \d+s/).waitFor();
    } finally {
      await limited.stop();
    }
  });

  it("an expired session sends the next page to sign-in, saying so", async () => {
    await signIn();
    await page.getByRole("heading", { name: "Models" }).waitFor();
    s.clock.now += SESSION_MS + 1000;
    await page.goto(`${s.url}/portal/artifacts`);
    expect(new URL(page.url()).pathname).toBe("/portal/sign-in");
    await page.getByRole("alert").getByText("Your session has expired").waitFor();
  });

  it("renders a <script> in an artifact name and in a device's message as text", async () => {
    const nameAttack = '<img src=x onerror="window.__pwned=1">.bin';
    const msgAttack = "<script>window.__pwned=2</script>";
    const data = Buffer.from("xss test image");
    const file = path.join(tempDir("otarig-portal-"), "x.bin");
    writeFileSync(file, data);
    const up = await s.vendorA.uploadArtifact(file, nameAttack);
    await s.vendorA.createModel("xss-1");
    await s.vendorA.addSerials("xss-1", ["X-1"]);
    await s.vendorA.enableSerial("xss-1", "X-1");
    const cik = await new ProvisionClient({ baseUrl: s.url, vendor: VENDOR_A.vendor, model: "xss-1" }).activate("X-1");
    const d = await s.vendorA.createDeployment({ device_sn: ["X-1"], artifact_uuid: up.artifactUuid });
    const firmwareId = (await s.vendorA.model("xss-1")).id;
    await s.backend.status({ firmwareId, deviceId: "X-1", cik }, { hash: up.sha256, state: "failure", message: msgAttack });

    await signIn();
    for (const where of ["/portal/artifacts", `/portal/deployments/${d.deployment_id}`, "/portal/devices", "/portal/deployments"]) {
      await page.goto(`${s.url}${where}`);
      // the deployment page's script has redrawn its table from the JSON once
      if (where.includes(d.deployment_id)) await page.locator("table[data-updated]").waitFor({ timeout: 10_000 });
      expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
      expect(await page.locator("main img, main script").count()).toBe(0);
    }
    await page.goto(`${s.url}/portal/artifacts`);
    await page.getByText(nameAttack, { exact: true }).waitFor();
    await page.goto(`${s.url}/portal/deployments/${d.deployment_id}`);
    await page.getByRole("cell", { name: msgAttack, exact: true }).waitFor();
  });
});
