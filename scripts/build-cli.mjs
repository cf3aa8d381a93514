// Builds the `rig` CLI into dist/cli/ with esbuild: plain JavaScript, so a start does not pay
// for tsx compiling TypeScript. Runs at `npm install` (postinstall) and, when the sources
// changed since, from bin/rig.js itself. Plain .mjs: it must run before anything is built.
//
// Code splitting keeps the CLI's lazy command loading: each command's modules are their own
// chunk, loaded when that command runs. npm packages stay external (resolved from node_modules
// as usual; serialport's native binding cannot be bundled anyway).
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist", "cli");
/** Names the current build: `{ dir, sourcesAt }`. Replaced atomically, so a rig starting mid-build sees a whole one. */
const CURRENT = join(DIST, "current.json");
/** Earlier builds are removed once this old (a run still loading chunks from one keeps it meanwhile). */
const KEEP_OLD_MS = 10 * 60_000;

/** Source trees the CLI is bundled from: a change under any of them makes the bundle stale. */
const SOURCES = ["harness", "devices", "server"].map((d) => join(ROOT, d));

/** Newest modification time (ms) of a .ts file under the source trees. */
export function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCES) walk(dir);
  return newest;
}

/** The entry file of the current build when it was built after the newest source change, else undefined. */
export function freshEntry() {
  try {
    const { dir, sourcesAt } = JSON.parse(readFileSync(CURRENT, "utf8"));
    if (typeof sourcesAt !== "number" || sourcesAt < newestSource()) return undefined;
    return join(DIST, dir, "main.mjs");
  } catch {
    return undefined;
  }
}

/**
 * Modules that locate files next to themselves (`new URL("../../server/main.ts", import.meta.url)`)
 * keep their own location in the bundle: import.meta.url is replaced, per module, by the URL of
 * its source file. Done with esbuild's own define, so the expression is replaced where it is code
 * and never inside a string.
 */
function ownUrlPlugin(esbuild) {
  return {
    name: "own-import-meta-url",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = readFileSync(args.path, "utf8");
        if (!source.includes("import.meta.url")) return undefined;
        const { code } = await esbuild.transform(source, {
          loader: "ts",
          format: "esm",
          sourcefile: args.path,
          define: { "import.meta.url": JSON.stringify(pathToFileURL(args.path).href) },
        });
        return { contents: code, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

/** Builds the CLI; returns its entry file. */
export async function buildCli() {
  const esbuild = await import("esbuild");
  const sourcesAt = newestSource();
  const dir = `build-${Date.now()}-${process.pid}`;
  await esbuild.build({
    entryPoints: { main: join(ROOT, "harness", "cli", "main.ts") },
    outdir: join(DIST, dir),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
    plugins: [ownUrlPlugin(esbuild)],
  });
  const tmp = `${CURRENT}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ dir, sourcesAt }) + "\n");
  renameSync(tmp, CURRENT);
  for (const e of readdirSync(DIST, { withFileTypes: true })) {
    const path = join(DIST, e.name);
    if (e.isDirectory() && e.name !== dir && Date.now() - statSync(path).mtimeMs > KEEP_OLD_MS) rmSync(path, { recursive: true, force: true });
  }
  return join(DIST, dir, "main.mjs");
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  buildCli().then(
    (entry) => process.stdout.write(`otarig: built the rig CLI: ${entry}\n`),
    (err) => {
      process.stderr.write(`otarig: could not build the rig CLI (${err.message}); bin/rig.js will run it through tsx\n`);
    },
  );
}
