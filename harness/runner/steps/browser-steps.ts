// browser.* and portal.login: a page in the system's Chromium (playwright-core). The first
// browser step starts the browser; teardown saves its trace (browser/trace.zip). A failing step
// names its locator, says what the page showed, and leaves a screenshot.
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { InfraError, OtarigError, ScenarioError, TestFailure } from "../../core/errors.ts";
import { parseDuration } from "../../core/duration.ts";
import { describeTarget, locate, pageSummary, type Target } from "../../browser/locate.ts";
import { BrowserSession } from "../../browser/session.ts";
import { portalSignIn } from "../../ota/portal-client.ts";
import type { StepParams } from "../../scenario/steps.ts";
import type { StepContext, StepImpl, StepOutcome } from "../context.ts";

type CssStyle = { setProperty(name: string, value: string): void };

/** Browser evidence goes here, inside the run directory. */
export const BROWSER_DIR = "browser";
/** Left of a step's time for the screenshot and message after a browser wait gave up. */
const REPORT_MARGIN_MS = 3000;

async function pageOf(ctx: StepContext): Promise<Page> {
  const slot = ctx.browser;
  if (!slot.session) {
    const launching = BrowserSession.launch({ headed: slot.headed });
    slot.session = launching;
    launching.catch(() => {
      if (slot.session === launching) delete slot.session; // a later step may try again
    });
    ctx.deferred.push(() => closeBrowser(ctx, launching));
  }
  return (await slot.session).page;
}

async function closeBrowser(ctx: StepContext, launching: Promise<BrowserSession>): Promise<void> {
  const session = await launching.catch(() => undefined);
  if (!session) return;
  const trace = join(BROWSER_DIR, "trace.zip");
  mkdirSync(join(ctx.runDir, BROWSER_DIR), { recursive: true });
  await session.close(join(ctx.runDir, trace), ctx.bus.redactor);
  if (existsSync(join(ctx.runDir, trace))) {
    ctx.bus.emit({ type: "attachment", name: "Playwright trace (npx playwright-core show-trace)", path: trace, contentType: "application/zip" });
  }
}

async function screenshot(ctx: StepContext, page: Page, name: string, fullPage = false): Promise<string | undefined> {
  const file = join(BROWSER_DIR, `${name}.png`);
  mkdirSync(join(ctx.runDir, BROWSER_DIR), { recursive: true });
  try {
    await page.screenshot({ path: join(ctx.runDir, file), fullPage, timeout: 5000, mask: ctx.browser.secretFields ?? [] });
  } catch {
    return undefined;
  }
  ctx.bus.emit({ type: "attachment", name, path: file, contentType: "image/png", step: ctx.path });
  return file;
}

/** Runs a browser action; a failure becomes a message with the locator, the page and a screenshot. */
function browserStep<P>(what: (p: P) => string, act: (ctx: StepContext, page: Page, p: P, waitMs: number) => Promise<StepOutcome | void>): StepImpl<P> {
  return async (ctx, p) => {
    const page = await pageOf(ctx);
    const waitMs = Math.max(1000, ctx.timeoutMs - REPORT_MARGIN_MS);
    try {
      return await act(ctx, page, p, waitMs);
    } catch (err) {
      if (err instanceof ScenarioError || err instanceof InfraError) throw err;
      const closed = /has been closed|Target crashed|browser has disconnected/i.test((err as Error).message);
      if (closed) throw new InfraError(`${what(p)}: the browser went away: ${firstLine(err)}`, { cause: err });
      const shot = await screenshot(ctx, page, `failure-step-${ctx.path.replace(/\./g, "-")}`);
      const summary = await pageSummary(page);
      const reason = err instanceof OtarigError ? err.message : firstLine(err);
      throw new TestFailure(`${what(p)}: ${reason}\n${summary}${shot ? `\nscreenshot: ${shot}` : ""}`, { cause: err });
    }
  };
}

/** What went wrong, without Playwright's call log (its lines before "Call log:" say it, e.g. which elements matched). */
function firstLine(err: unknown): string {
  const text = (err as Error).message ?? String(err);
  const lines = text.split("\n");
  const end = lines.findIndex((l) => /^\s*Call log:/.test(l));
  const kept = (end < 0 ? lines.slice(0, 1) : lines.slice(0, end)).filter((l) => l.trim() && !/^=+/.test(l.trim()));
  return kept.slice(0, 8).join("\n") || text;
}

export const open: StepImpl<StepParams<"browser.open">> = browserStep(
  (p) => `opening ${p.url}`,
  async (_ctx, page, p, waitMs) => {
    const res = await page.goto(p.url, { timeout: waitMs, waitUntil: "load" });
    const status = res?.status();
    if (status !== undefined && status >= 400) throw new TestFailure(`the server answered ${status}`);
    return { detail: `${page.url()} (${status ?? "no response"}): ${await page.title()}` };
  },
);

export const click: StepImpl<StepParams<"browser.click">> = browserStep(
  (p) => `clicking ${describeTarget(p as Target)}`,
  async (_ctx, page, p, waitMs) => {
    await locate(page, p as Target).click({ timeout: waitMs });
  },
);

export const fill: StepImpl<StepParams<"browser.fill">> = browserStep(
  (p) => `filling ${describeTarget(p as Target)}`,
  async (ctx, page, p, waitMs) => {
    const field = locate(page, p as Target);
    if (ctx.bus.redactor.hides(p.value)) {
      // A secret: the field shows dots from before the first key, so no frame of the trace's
      // film strip shows it; screenshots mask the field (the trace's text is redacted at close).
      await field.evaluate((el) => (el as unknown as { style: CssStyle }).style.setProperty("-webkit-text-security", "disc"), undefined, { timeout: waitMs });
      (ctx.browser.secretFields ??= []).push(field);
    }
    await field.fill(p.value, { timeout: waitMs });
  },
);

export const select: StepImpl<StepParams<"browser.select">> = browserStep(
  (p) => `choosing "${p.option}" in ${describeTarget(p as Target)}`,
  async (_ctx, page, p, waitMs) => {
    const list = locate(page, p as Target);
    await list.waitFor({ state: "visible", timeout: waitMs });
    const options = await list.locator("option").evaluateAll((els) => els.map((o) => ({ value: (o as unknown as { value: string }).value, text: o.textContent ?? "" })));
    const chosen = options.find((o) => o.text.includes(p.option));
    if (!chosen) throw new TestFailure(`no option contains "${p.option}"; the options are: ${options.map((o) => JSON.stringify(o.text.trim())).join(", ")}`);
    await list.selectOption({ value: chosen.value }, { timeout: waitMs });
    return { detail: chosen.text.trim() };
  },
);

export const upload: StepImpl<StepParams<"browser.upload">> = browserStep(
  (p) => `choosing ${p.file} in ${describeTarget(p as Target)}`,
  async (ctx, page, p, waitMs) => {
    const file = resolve(p.file);
    if (!existsSync(file)) throw new ScenarioError(`browser.upload: no file ${file}`, ctx.step.pos);
    await locate(page, p as Target).setInputFiles(file, { timeout: waitMs });
  },
);

export const expect: StepImpl<StepParams<"browser.expect">> = browserStep(
  (p) => `expecting ${describeTarget(p as Target)}${p.not ? " to be gone" : ""}`,
  async (ctx, page, p, waitMs) => {
    // `within` bounds the wait, minus the step's margin for the screenshot and the message
    const waited = Math.min(p.within !== undefined ? parseDuration(p.within) : waitMs, waitMs);
    const found = locate(page, p as Target).first();
    try {
      await found.waitFor({ state: p.not ? "hidden" : "visible", timeout: waited });
    } catch (err) {
      if ((err as Error).name !== "TimeoutError") throw err;
      throw new TestFailure(p.not ? `still shown after ${waited / 1000}s` : `not shown within ${waited / 1000}s`);
    }
    if (p.not) return { detail: "not shown" };
    const shown = (await found.innerText({ timeout: 1000 }).catch(() => "")).replace(/\s+/g, " ").trim();
    if (p.as) ctx.outputs.set(p.as, shown);
    return { detail: shown.slice(0, 120) };
  },
);

export const shot: StepImpl<StepParams<"browser.screenshot">> = browserStep(
  (p) => `screenshot ${p.name}`,
  async (ctx, page, p) => {
    const file = await screenshot(ctx, page, p.name, p.full_page ?? false);
    if (!file) throw new TestFailure("the page could not be captured");
    return { detail: file };
  },
);

export const portalLogin: StepImpl<StepParams<"portal.login">> = browserStep(
  () => "signing in to the portal",
  async (ctx, page, p, waitMs) => {
    const key = ctx.server.credentials.apiKey;
    if (!key) throw new InfraError(`portal.login needs an API key for the server at ${ctx.server.url}: set OTARIG_API_KEY=vendor:keyId:secret (server mode url)`);
    const portal = (p?.url ?? `${ctx.server.url}/portal`).replace(/\/+$/, "");
    const cookie = await portalSignIn(portal, key);
    const at = new URL(portal);
    await page.context().addCookies([
      {
        name: cookie.name,
        value: cookie.value,
        domain: at.hostname,
        path: "/portal",
        httpOnly: true,
        sameSite: "Strict",
        secure: at.protocol === "https:",
        expires: Math.floor(Date.now() / 1000) + cookie.maxAgeS,
      },
    ]);
    await page.goto(`${portal}/`, { timeout: waitMs });
    await page.getByRole("button", { name: "Sign out" }).waitFor({ state: "visible", timeout: Math.min(waitMs, 10_000) });
    return { detail: `signed in as ${key.vendor} (key ${key.keyId})` };
  },
);
