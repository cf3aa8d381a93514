// Browser steps through the rig CLI, against a portal at a known URL (server mode url, key from
// OTARIG_API_KEY): a failing step names its locator and what the page showed, leaves a
// screenshot and a trace, all attached; the API secret reaches no file; no Chromium → exit 3.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, requireChromium } from "../../harness/browser/chromium.ts";
import { readZip, type ZipEntry } from "../../harness/browser/zip.ts";
import { processesMentioning, readJson, rig, ROOT, waitForOutput } from "../cli/helpers.ts";
import { startTestServer, VENDOR_A, type TestServer } from "../server/helpers.ts";

// Temporary folders of this file, removed when its tests are done.
const made: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const KEY = `${VENDOR_A.vendor}:${VENDOR_A.keyId}:${VENDOR_A.secret}`;

function scenario(dir: string, url: string, steps: string, head = ""): string {
  const file = join(dir, "browser.yaml");
  writeFileSync(
    file,
    `name: browser-steps
rig: ${join(ROOT, "rigs/virtual.yaml")}
boards: [dut]
server: { mode: url, url: "${url}" }
timeout: 20s
${head}steps:
${steps}`,
  );
  return file;
}

/** Every entry of a trace.zip, decompressed (a search of the zip's own bytes sees only deflated data). */
function traceEntries(file: string): ZipEntry[] {
  const entries = readZip(readFileSync(file));
  expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(["trace.trace", "trace.network"]));
  return entries;
}

/** How files spell a value: as is, escaped in JSON, URL-encoded (a query, a form post). */
function spellings(value: string): string[] {
  return [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)];
}

describe("browser steps", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.stop());

  it("a failing step names the locator and what the page showed; screenshot and trace are attached; the secret is in no file", async () => {
    const dir = tempDir("otarig-browser-");
    const out = join(dir, "run");
    const file = scenario(
      dir,
      s.url,
      `  - portal.login: {}
  - browser.fill: { label: Model name, value: vb-1 }
  - browser.click: { role: button, name: Create model }
  - browser.expect: { in: { role: row, name: Firmware id }, role: cell, as: fwid }
  - browser.screenshot: { name: model-page }
  - name: a button the page does not have
    browser.click: { role: button, name: "Delete model \${fwid}" }
    timeout: 6s
`,
    );
    const r = await rig([file, "--out", out], { env: { OTARIG_API_KEY: KEY, XDG_CACHE_HOME: join(dir, "cache") }, timeoutMs: 90_000 });
    expect(r.exitCode, r.all).toBe(1);
    const result = readJson(join(out, "result.json"));
    expect(result.failedStep).toBe("6");
    const failed = result.steps.find((st: { path: string }) => st.path === "6");
    expect(failed.error.message).toMatch(/clicking role=button name="Delete model \d+"/);
    expect(failed.error.message).toMatch(/page http:\/\/127\.0\.0\.1:\d+\/portal\/models\/vb-1 \(title "Model vb-1 · otarig portal"\)/);
    expect(failed.error.message).toMatch(/it showed: .*Model vb-1 created/);
    expect(failed.error.message).toContain("screenshot: browser/failure-step-6.png");
    expect(result.attachments).toEqual(
      expect.arrayContaining([
        { name: "model-page", path: "browser/model-page.png", contentType: "image/png", step: "5" },
        { name: "failure-step-6", path: "browser/failure-step-6.png", contentType: "image/png", step: "6" },
        { name: expect.stringMatching(/trace/), path: "browser/trace.zip", contentType: "application/zip" },
      ]),
    );
    const png = readFileSync(join(out, "browser/failure-step-6.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    const trace = readFileSync(join(out, "browser/trace.zip"));
    expect(trace.subarray(0, 2).toString()).toBe("PK");
    expect(readFileSync(join(out, "junit.xml"), "utf8")).toContain(`[[ATTACHMENT|${join(out, "browser/trace.zip")}]]`);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain('href="browser/failure-step-6.png"');
    // the secret went to the server over plain HTTP, never into the browser, its trace or a log
    for (const entry of traceEntries(join(out, "browser/trace.zip"))) {
      for (const spelled of spellings(VENDOR_A.secret)) expect(entry.data.includes(spelled), entry.name).toBe(false);
    }
    for (const f of ["run.log", "result.json", "junit.xml", "report.html"]) {
      const text = readFileSync(join(out, f)).toString("latin1");
      expect(text, f).not.toContain(VENDOR_A.secret);
      expect(text, f).not.toContain(encodeURIComponent(VENDOR_A.secret));
    }
    expect(r.all).not.toContain(VENDOR_A.secret);
    expect(await processesMentioning(out)).toEqual([]);
  }, 120_000);

  it("a secret typed with browser.fill is in no entry of the trace and in no screenshot", async () => {
    const dir = tempDir("otarig-browser-");
    const out = join(dir, "run");
    // Two secrets of one length (with characters JSON and URLs escape), and a value anyone may see.
    const secretA = `Hunter2"Stag&ing+Pass/A1b`;
    const secretB = `Zq9x"Lonr&er-Secr+et/Val9`;
    const visible = "visible-model-name-42";
    const file = scenario(
      dir,
      s.url,
      `  - portal.login: {}
  - browser.fill: { label: Model name, value: ${visible} }
  - browser.screenshot: { name: visible }
  - browser.fill: { label: Model name, value: "\${env.PORTAL_SECRET_A}" }
  - browser.screenshot: { name: secret-a }
  - browser.fill: { label: Model name, value: "\${env.PORTAL_SECRET_B}" }
  - browser.screenshot: { name: secret-b }
`,
      "secrets: [PORTAL_SECRET_A, PORTAL_SECRET_B]\n",
    );
    const env = { OTARIG_API_KEY: KEY, PORTAL_SECRET_A: secretA, PORTAL_SECRET_B: secretB, XDG_CACHE_HOME: join(dir, "cache") };
    const r = await rig([file, "--out", out], { env, timeoutMs: 90_000 });
    expect(r.exitCode, r.all).toBe(0);

    const entries = traceEntries(join(out, "browser/trace.zip"));
    // The search sees what the trace holds: the visible value is there (the fill's parameters, snapshots).
    expect(entries.some((e) => e.data.includes(visible)), "the visible value is in the trace").toBe(true);
    for (const entry of entries) {
      for (const secret of [secretA, secretB]) {
        for (const spelled of spellings(secret)) expect(entry.data.includes(spelled), `${entry.name} holds ${spelled}`).toBe(false);
      }
    }
    // Screenshots: the field with either secret looks the same (masked); with the visible value it does not.
    const png = (name: string) => readFileSync(join(out, `browser/${name}.png`));
    expect(png("secret-a").equals(png("secret-b")), "the two secrets' screenshots differ").toBe(true);
    expect(png("visible").equals(png("secret-a"))).toBe(false);
    expect(r.all).not.toContain(secretA);
    expect(await processesMentioning(out)).toEqual([]);
  }, 120_000);

  it("Ctrl-C during a run with a browser: teardown closes the browser and still saves the trace (exit 130)", async () => {
    const dir = tempDir("otarig-browser-");
    const out = join(dir, "run");
    const file = scenario(dir, s.url, `  - portal.login: {}\n  - wait: 60s\n    timeout: 90s\n`);
    const child = rig([file, "--out", out], { env: { OTARIG_API_KEY: KEY, XDG_CACHE_HOME: join(dir, "cache") }, timeoutMs: 90_000 });
    await waitForOutput(child, "2 wait", "the run never reached its wait step", 60_000);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    expect(readFileSync(join(out, "browser/trace.zip")).subarray(0, 2).toString()).toBe("PK");
    expect(readJson(join(out, "result.json")).attachments.map((a: { path: string }) => a.path)).toContain("browser/trace.zip");
  }, 120_000);

  it("without Chromium: exit 3 with the install command", async () => {
    const dir = tempDir("otarig-browser-");
    const file = scenario(dir, s.url, `  - browser.open: { url: "\${server.url}/portal/" }\n`);
    const r = await rig([file, "--out", join(dir, "run")], {
      env: { OTARIG_API_KEY: KEY, OTARIG_CHROMIUM: join(dir, "no-such-chromium"), XDG_CACHE_HOME: join(dir, "cache") },
      timeoutMs: 60_000,
    });
    expect(r.exitCode, r.all).toBe(3);
    expect(r.all).toContain(`OTARIG_CHROMIUM=${join(dir, "no-such-chromium")} is not an executable file`);
    const doctor = await rig(["doctor"], { env: { OTARIG_CHROMIUM: join(dir, "no-such-chromium") } });
    expect(doctor.all).toMatch(/warn\s+chromium\s+not found \(looked for OTARIG_CHROMIUM=.*no-such-chromium; browser steps need it: sudo apt-get install chromium\)/);
    // nothing on the PATH either: the message says how to install it
    expect(() => requireChromium({ PATH: dir })).toThrow(/none was found \(looked for chromium, chromium-browser, google-chrome on the PATH\): install it with "sudo apt-get install chromium"/);
    expect(findChromium({ PATH: "/usr/bin" }).path).toBe("/usr/bin/chromium");
  }, 120_000);

  it("rig validate: a browser target with two ways of finding it, or none, is an error at its position", async () => {
    const dir = tempDir("otarig-browser-");
    const file = scenario(dir, s.url, `  - browser.click: { role: button, label: Name }\n  - browser.fill: { value: x }\n`);
    const r = await rig(["validate", file]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).toMatch(new RegExp(`${file}:7:\\d+: .*give exactly one of role, label, text, selector \\(got role, label\\)`));
    expect(r.all).toMatch(new RegExp(`${file}:8:\\d+: .*give exactly one of role, label, text, selector \\(got none\\)`));
  });
});
