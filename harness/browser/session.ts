// One browser per run: the system's Chromium through playwright-core, one context and page,
// traced from the start so trace.zip (npx playwright-core show-trace) shows every action.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { InfraError } from "../core/errors.ts";
import { CHROMIUM_ARGS, requireChromium } from "./chromium.ts";
import { NO_SECRETS, type Redactor } from "../core/redact.ts";
import { redactTrace } from "./trace-redact.ts";

export interface BrowserOptions {
  /** show the window (needs a display) */
  headed?: boolean;
  env?: NodeJS.ProcessEnv;
}

export class BrowserSession {
  private closed = false;

  private constructor(
    readonly browser: Browser,
    readonly context: BrowserContext,
    readonly page: Page,
    /** Playwright's working files for the trace; removed on close */
    private readonly tracesDir: string,
  ) {}

  static async launch(options: BrowserOptions = {}): Promise<BrowserSession> {
    const executablePath = requireChromium(options.env);
    const tracesDir = mkdtempSync(join(tmpdir(), "otarig-trace-"));
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath,
        headless: !options.headed,
        chromiumSandbox: false,
        args: CHROMIUM_ARGS,
        timeout: 30_000,
        // the run's own SIGINT handling closes the browser at teardown
        handleSIGINT: false,
        tracesDir,
      });
    } catch (err) {
      rmSync(tracesDir, { recursive: true, force: true });
      throw new InfraError(`could not start Chromium (${executablePath}): ${(err as Error).message.split("\n")[0]}`, { cause: err });
    }
    try {
      const context = await browser.newContext({ acceptDownloads: false, viewport: { width: 1280, height: 900 } });
      await context.tracing.start({ screenshots: true, snapshots: true });
      const page = await context.newPage();
      return new BrowserSession(browser, context, page, tracesDir);
    } catch (err) {
      await browser.close().catch(() => {});
      rmSync(tracesDir, { recursive: true, force: true });
      throw new InfraError(`could not open a Chromium page: ${(err as Error).message.split("\n")[0]}`, { cause: err });
    }
  }

  /**
   * Stops the trace into `tracePath` (when given), with the run's secrets hidden in it, and
   * closes the browser; safe to call twice. A trace whose secrets could not be hidden is deleted.
   */
  async close(tracePath?: string, redactor: Redactor = NO_SECRETS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (tracePath) {
        await this.context.tracing.stop({ path: tracePath });
        try {
          redactTrace(tracePath, redactor);
        } catch (err) {
          rmSync(tracePath, { force: true });
          throw new InfraError(`could not hide the run's secrets in ${tracePath}, so it was deleted: ${(err as Error).message}`, { cause: err });
        }
      }
    } finally {
      await this.browser.close().catch(() => {});
      rmSync(this.tracesDir, { recursive: true, force: true });
    }
  }
}
