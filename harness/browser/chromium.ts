// Which Chromium the browser steps drive: OTARIG_CHROMIUM, else the first of chromium,
// chromium-browser, google-chrome on the PATH. The harness never downloads a browser.
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { InfraError } from "../core/errors.ts";

export const CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome"] as const;
export const CHROMIUM_INSTALL = "sudo apt-get install chromium";

/** Launch flags (DESIGN §6): no sandbox (root in CI), no GPU, and no traffic of its own. */
export const CHROMIUM_ARGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The Chromium executable, or undefined with the places looked at. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path?: string; tried: string[] } {
  const tried: string[] = [];
  const chosen = env.OTARIG_CHROMIUM?.trim();
  if (chosen) {
    tried.push(`OTARIG_CHROMIUM=${chosen}`);
    return executable(chosen) ? { path: chosen, tried } : { tried };
  }
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const name of CHROMIUM_NAMES) {
    tried.push(name);
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (executable(file)) return { path: file, tried };
    }
  }
  return { tried };
}

/** The Chromium executable; an infrastructure error (exit 3) with the install command if none. */
export function requireChromium(env: NodeJS.ProcessEnv = process.env): string {
  const found = findChromium(env);
  if (found.path) return found.path;
  const chosen = env.OTARIG_CHROMIUM?.trim();
  throw new InfraError(
    chosen
      ? `OTARIG_CHROMIUM=${chosen} is not an executable file; point it at Chromium or unset it to search the PATH`
      : `browser steps need Chromium and none was found (looked for ${CHROMIUM_NAMES.join(", ")} on the PATH): install it with "${CHROMIUM_INSTALL}", or set OTARIG_CHROMIUM to its path`,
  );
}

/** A display a headed browser can open on. */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}
