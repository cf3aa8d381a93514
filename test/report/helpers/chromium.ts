// Real Chromium (Debian's /usr/bin/chromium) through playwright-core, launched as DESIGN §6 says.
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM_ARGS as HARNESS_ARGS } from "../../../harness/browser/chromium.ts";

/** The harness's own launch flags, headless and without the sandbox (root in CI). */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", ...HARNESS_ARGS];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.OTARIG_CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS, timeout: 30_000 });
}
