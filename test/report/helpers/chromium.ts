// Real Chromium (Debian's /usr/bin/chromium) through playwright-core, launched as DESIGN §6 says.
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.OTARIG_CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS, timeout: 30_000 });
}
