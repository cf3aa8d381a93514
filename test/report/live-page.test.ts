// rig run --serve as a person watches it: real Chromium on the live page of a real run on the
// virtual rig. A line the board prints shows on the page within 1 s of reaching the harness
// (the moment the run's own terminal prints it, --console), while the run still goes on; the
// steps fill in as they happen; at the end the page becomes the finished report; the server
// goes with the run.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, rig, waitForOutput } from "../cli/helpers.ts";
import { launchChromium } from "./helpers/chromium.ts";

const FIXTURE = join(ROOT, "test/report/fixtures/live-page.yaml");
const STATUS = /status slot=A version=1\.0\.0 sha256=[0-9a-f]{64}/;

let tmp: string;
let browser: Browser;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "otarig-live-page-"));
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A GET with the path exactly as given (no URL normalisation), for the path-traversal check. */
function rawGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rig run --serve", () => {
  it("shows a line the board prints within 1 s, while the run goes on; at the end the page is the report", async () => {
    const dir = join(tmp, "run");
    const child = rig([FIXTURE, "--serve", "--console", "--out", dir], { env: { XDG_CACHE_HOME: join(tmp, "cache") } });
    let output = "";
    child.all!.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    let exited = false;
    void child.then(() => (exited = true));

    await waitForOutput(child, /live report: http:\/\/127\.0\.0\.1:\d+\//, "the live page's address", 60_000);
    const url = /live report: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(output)!;
    const port = Number(url[2]);
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url[1]!);
    expect(await page.textContent("#verdict")).toBe("running");

    // The moment the harness has the board's answer: its own terminal prints it (--console).
    await waitForOutput(child, new RegExp(`dut │ ${STATUS.source}`), "the board's status answer on the run's terminal", 60_000);
    await page
      .waitForFunction(`[...document.querySelectorAll("#console-view .row")].some((r) => /${STATUS.source}/.test(r.textContent))`, null, { timeout: 1000 })
      .catch(() => {
        throw new Error(`the status line was not on the live page 1 s after the harness had it; page errors: ${errors.join("; ") || "none"}`);
      });
    expect(exited).toBe(false); // seen while the run still runs
    // The steps so far, with the one that runs.
    expect(await page.locator("#steps-section tr[data-step='6'].passed").count()).toBe(1);
    expect(await page.locator(".bar[data-step='7'].running").count()).toBe(1);

    // The run's files are served beside the page; nothing outside its directory is.
    expect(await rawGet(port, "/dut.log")).toBe(200);
    expect(await rawGet(port, "/%2e%2e/%2e%2e/etc/passwd")).toBe(404);
    writeFileSync(join(dir, "portal-secret"), "not for the page\n"); // as a held run keeps it
    expect(await rawGet(port, "/portal-secret")).toBe(404);

    // At the end the page loads the finished report.
    await page.waitForFunction(`document.querySelector("#verdict")?.textContent === "passed"`, null, { timeout: 60_000 });
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    expect(await page.locator("#steps-section tr[data-step='7'].passed").count()).toBe(1);
    expect(errors).toEqual([]);
    // The server went with the run.
    await expect(rawGet(port, "/")).rejects.toThrow(/ECONNREFUSED/);
  }, 120_000);

  it("with several scenarios, / follows the one that runs and a finished one keeps its report at /<scenario>/", async () => {
    const dir = join(tmp, "suite");
    const first = join(ROOT, "test/cli/fixtures/never-matches.yaml");
    const child = rig([first, FIXTURE, "--serve", "--out", dir], { env: { XDG_CACHE_HOME: join(tmp, "cache") } });
    let output = "";
    child.all!.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    await waitForOutput(child, /▶ live-page/, "the second scenario's start", 90_000);
    const port = Number(/live report: http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)![1]);
    const root = await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/live-page/");
    expect(await (await fetch(`http://127.0.0.1:${port}/live-page/`)).text()).toContain(`id="verdict">running<`);
    expect(await (await fetch(`http://127.0.0.1:${port}/never-matches/`)).text()).toContain(`id="verdict">failed (test failure)<`);
    const r = await child;
    expect(r.exitCode, r.all).toBe(1);
  }, 150_000);

  it("a port that is not a port: exit 2 before anything runs", async () => {
    const dir = join(tmp, "bad");
    const r = await rig([FIXTURE, "--serve", "99999", "--out", dir]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toContain(`--serve takes a port number (1-65535), not "99999"`);
  });
});
