// The server's version, as reported by /healthz: the package version when it can be read.
import { readFileSync } from "node:fs";

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0"; // bundled without package.json (container image)
  }
}

export const SERVER_VERSION = readVersion();
