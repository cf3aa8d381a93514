import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// npm 12 skips every dependency's install script that package.json's `allowScripts` does not
// approve, so an unreviewed one would silently break `npm ci` (no native serialport binding, no
// better-sqlite3). Every package the lock says has an install script needs a decision.
const ROOT = join(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { hasInstallScript?: boolean }>;
};

/** node_modules/a/node_modules/@s/b -> @s/b */
function nameOf(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf("node_modules/") + "node_modules/".length);
}

describe("allowScripts", () => {
  const withScripts = Object.entries(lock.packages)
    .filter(([path, p]) => path !== "" && p.hasInstallScript)
    .map(([path]) => nameOf(path));

  it("decides on every dependency with an install script in the lock", () => {
    expect(withScripts.length).toBeGreaterThan(0);
    const undecided = withScripts.filter((name) => typeof pkg.allowScripts?.[name] !== "boolean");
    expect(undecided).toEqual([]);
  });

  it("approves the native and build parts the harness runs on", () => {
    for (const name of ["@serialport/bindings-cpp", "better-sqlite3", "esbuild"]) expect(pkg.allowScripts?.[name]).toBe(true);
  });

  it("has no entry for a package that is not in the lock any more", () => {
    const stale = Object.keys(pkg.allowScripts ?? {}).filter((name) => !withScripts.includes(name));
    expect(stale).toEqual([]);
  });
});
