// The reference server's container image, built with no registry (DESIGN §4 "Packaging").
//
// The image is `FROM scratch` and holds exactly what the server needs to run:
//   - the host's own `node` binary (process.execPath) and the shared libraries `ldd` lists for it
//     and for the native modules, at the paths `ldd` printed (dynamic loader included);
//   - the server bundled by esbuild into one ESM file, /app/server.mjs;
//   - the native packages the bundle keeps external (better-sqlite3 with its compiled .node) and
//     their runtime dependencies, in /app/node_modules;
//   - an empty /tmp and /data (mode 1777).
// Nothing is pulled: a scratch base needs no registry, and the classic builder copies the context.
//
// The image is tagged by a content hash of everything that goes into it
// (`otarig-server:<hash12>`), so a second run with the same server, node and libraries finds the
// tag and skips the build. The runtime (node, libraries, node_modules) is its own layer, so a
// changed server only adds a small layer.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { createReadStream, promises as fs, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { InfraError } from "../../core/errors.ts";
import { describeEngine, engineRequest, ensureTestcontainersEnv, imageExists } from "../engine.ts";

const execFileP = promisify(execFile);

/** Bump when the image layout changes, so old tags are not reused. */
const LAYOUT_VERSION = "otarig-server-image/1";
export const SERVER_IMAGE_REPO = "otarig-server";
export const SERVER_IMAGE_PORT = 1337;
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEFAULT_ENTRY = path.join(REPO_ROOT, "server", "main.ts");

/** Packages with compiled addons: kept out of the bundle and copied with their .node files. */
const NATIVE_PACKAGES = ["better-sqlite3"];
/** Install-time dependencies of native packages that the running server never loads. */
const INSTALL_ONLY = new Set(["prebuild-install", "node-gyp", "node-gyp-build-optional-packages", "prebuild"]);

export interface ServerImageOptions {
  /** the server's entry point; default server/main.ts of this repository */
  entry?: string;
  /** where node_modules are looked up (native packages); default this repository */
  root?: string;
  /** progress lines ("building image …") */
  onLog?: (line: string) => void;
  /** build even when the tag exists */
  force?: boolean;
}

export interface ServerImage {
  /** e.g. otarig-server:1a2b3c4d5e6f */
  tag: string;
  /** false when the tag already existed and nothing was built */
  built: boolean;
  /** time spent in ensureServerImage, ms (hashing + build when built) */
  ms: number;
}

interface ContextFile {
  /** path inside the image, absolute */
  dest: string;
  /** layer: "runtime" (node, libraries, node_modules) or "app" (the bundle) */
  layer: "runtime" | "app";
  mode: number;
  /** a host file to copy (symlinks resolved) … */
  src?: string;
  /** … or literal content */
  content?: Buffer;
}

/** Builds the reference server image unless an image with the same content hash exists. */
export async function ensureServerImage(options: ServerImageOptions = {}): Promise<ServerImage> {
  const started = Date.now();
  const log = options.onLog ?? (() => {});
  const plan = await planImage(options);
  const tag = `${SERVER_IMAGE_REPO}:${plan.hash.slice(0, 12)}`;
  let exists: boolean;
  try {
    exists = await imageExists(tag);
  } catch (err) {
    throw new InfraError(`container engine at ${describeEngine()} does not answer: ${(err as Error).message}`, { cause: err });
  }
  if (exists && !options.force) return { tag, built: false, ms: Date.now() - started };

  log(`building OTA server image ${tag} (FROM scratch, no registry)`);
  const context = await fs.mkdtemp(path.join(tmpdir(), "otarig-image-"));
  try {
    await writeContext(context, plan.files, plan.dockerfile);
    ensureTestcontainersEnv();
    const { GenericContainer } = await import("testcontainers");
    try {
      await GenericContainer.fromDockerfile(context).build(tag, { deleteOnExit: false });
    } catch (err) {
      throw new InfraError(
        `building the OTA server image ${tag} failed: ${(err as Error).message}` +
          ` (context: node ${process.execPath}, ${plan.files.length} files; engine ${describeEngine()})`,
        { cause: err },
      );
    }
  } finally {
    await fs.rm(context, { recursive: true, force: true });
  }
  log(`built OTA server image ${tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await pruneOldServerImages(tag).catch(() => {});
  return { tag, built: true, ms: Date.now() - started };
}

interface ImagePlan {
  files: ContextFile[];
  dockerfile: string;
  hash: string;
}

/** Everything that goes into the image, and its content hash; touches no engine. */
export async function planImage(options: Pick<ServerImageOptions, "entry" | "root"> = {}): Promise<ImagePlan> {
  const entry = path.resolve(options.entry ?? DEFAULT_ENTRY);
  const root = path.resolve(options.root ?? REPO_ROOT);
  try {
    await fs.access(entry);
  } catch {
    throw new InfraError(`OTA server entry point ${entry} not found: cannot build the server image`);
  }
  const files: ContextFile[] = [];

  // 1. The bundle.
  const bundle = await bundleServer(entry, root);
  files.push({ dest: "/app/server.mjs", layer: "app", mode: 0o644, content: bundle });
  files.push({ dest: "/app/package.json", layer: "runtime", mode: 0o644, content: Buffer.from('{"type":"module","private":true}\n') });
  // The server reads its version from the package.json one level above its source
  // (server/version.ts); next to /app/server.mjs that is /package.json.
  const rootPkg = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8").catch(() => "{}")) as { name?: string; version?: string };
  files.push({
    dest: "/package.json",
    layer: "app",
    mode: 0o644,
    content: Buffer.from(JSON.stringify({ name: rootPkg.name ?? "otarig", version: rootPkg.version ?? "0.0.0", private: true }) + "\n"),
  });

  // 2. Native packages and their runtime dependencies.
  const nodeAddons: string[] = [];
  for (const pkg of await nativePackageClosure(root)) {
    for (const f of await packageFiles(pkg.dir, pkg.native)) {
      const rel = path.relative(pkg.dir, f);
      files.push({ dest: `/app/node_modules/${pkg.name}/${rel.split(path.sep).join("/")}`, layer: "runtime", mode: 0o644, src: f });
      if (f.endsWith(".node")) nodeAddons.push(f);
    }
  }

  // 3. node and the shared libraries it and the addons link against.
  files.push({ dest: "/usr/local/bin/node", layer: "runtime", mode: 0o755, src: realpathSync(process.execPath) });
  const libs = new Map<string, string>(); // path in image -> host file
  for (const binary of [process.execPath, ...nodeAddons]) {
    for (const [dest, src] of await sharedLibraries(binary)) libs.set(dest, src);
  }
  for (const [dest, src] of [...libs].sort(([a], [b]) => a.localeCompare(b))) {
    files.push({ dest, layer: "runtime", mode: 0o755, src });
  }
  const libDirs = [...new Set([...libs.keys()].map((p) => path.posix.dirname(p)))].sort();

  files.sort((a, b) => a.dest.localeCompare(b.dest));

  const dockerfileFor = (hash: string) =>
    [
      "# Generated by otarig (harness/server/image/build.ts): the reference OTA server, no base image.",
      "FROM scratch",
      "COPY runtime/ /",
      "COPY app/ /",
      `ENV PATH=/usr/local/bin LD_LIBRARY_PATH=${libDirs.join(":")} NODE_ENV=production BACKEND_HOST=0.0.0.0 BACKEND_PORT=${SERVER_IMAGE_PORT} OTA_DATA_DIR=/data`,
      "WORKDIR /app",
      `EXPOSE ${SERVER_IMAGE_PORT}`,
      "STOPSIGNAL SIGTERM",
      'ENTRYPOINT ["/usr/local/bin/node", "/app/server.mjs"]',
      `LABEL otarig=1 otarig.component=reference-server otarig.hash=${hash}`,
      "",
    ].join("\n");

  const h = createHash("sha256");
  h.update(LAYOUT_VERSION + "\n");
  h.update(dockerfileFor("") + "\n");
  for (const f of files) {
    h.update(`${f.layer} ${f.dest} ${f.mode.toString(8)} `);
    h.update(f.content ? sha256(f.content) : await sha256File(f.src!));
    h.update("\n");
  }
  const hash = h.digest("hex");
  return { files, dockerfile: dockerfileFor(hash), hash };
}

async function bundleServer(entry: string, root: string): Promise<Buffer> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch (err) {
    throw new InfraError(`esbuild (installed with tsx) is missing: cannot bundle the OTA server: ${(err as Error).message}`);
  }
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      external: NATIVE_PACKAGES,
      outfile: path.join(root, ".otarig-bundle", "server.mjs"),
      write: false,
      logLevel: "silent",
      legalComments: "none",
      // Bundled CommonJS code calls require() for node built-ins; ESM has none, so provide one.
      banner: {
        js: [
          'import { createRequire as __otarigCreateRequire } from "node:module";',
          "globalThis.require ??= __otarigCreateRequire(import.meta.url);",
        ].join("\n"),
      },
    });
    const out = result.outputFiles.find((f) => f.path.endsWith(".mjs"));
    if (!out) throw new Error("esbuild produced no output");
    return Buffer.from(out.contents);
  } catch (err) {
    const e = err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[]; message: string };
    const detail = e.errors?.length
      ? e.errors.map((x) => (x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ` : "") + x.text).join("\n")
      : e.message;
    throw new InfraError(`bundling the OTA server (${path.relative(root, entry)}) failed:\n${detail}`, { cause: err });
  }
}

interface PackageRef {
  name: string;
  dir: string;
  native: boolean;
}

/** The native packages and, transitively, their runtime dependencies (install-only ones left out). */
async function nativePackageClosure(root: string): Promise<PackageRef[]> {
  const out = new Map<string, PackageRef>();
  const visit = async (name: string, fromDir: string, native: boolean) => {
    if (out.has(name) || INSTALL_ONLY.has(name)) return;
    let manifest: string;
    try {
      manifest = createRequire(path.join(fromDir, "package.json")).resolve(`${name}/package.json`);
    } catch {
      throw new InfraError(`package ${name} (needed by the OTA server image) is not installed: run npm ci`);
    }
    const dir = path.dirname(manifest);
    out.set(name, { name, dir, native });
    const pkg = JSON.parse(await fs.readFile(manifest, "utf8")) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) await visit(dep, dir, false);
  };
  for (const name of NATIVE_PACKAGES) await visit(name, root, true);
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The files of a package the running server needs. Native packages: package.json, lib/ (the JS)
 * and build/Release/*.node (no sources, objects, or test addons). Others: everything but tests,
 * docs and nested node_modules.
 */
async function packageFiles(dir: string, native: boolean): Promise<string[]> {
  const files: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name === "node_modules" || e.name === "test" || e.name === "tests" || e.name === ".github") continue;
        if (native && !(r === "lib" || r.startsWith("lib/") || r === "build" || r === "build/Release")) continue;
        await walk(full, r);
      } else if (e.isFile() || e.isSymbolicLink()) {
        if (native) {
          const keep = r === "package.json" || r.startsWith("lib/") || (/^build\/Release\/[^/]+\.node$/.test(r) && !/test_extension/.test(r));
          if (!keep) continue;
        } else if (/\.(md|markdown|map)$/i.test(e.name)) {
          continue;
        }
        files.push(full);
      }
    }
  };
  await walk(dir, "");
  if (native && !files.some((f) => f.endsWith(".node"))) {
    throw new InfraError(`native package at ${dir} has no compiled build/Release/*.node: run npm ci (it compiles it)`);
  }
  return files;
}

/** `ldd <binary>` as [path in image, host file] pairs: every library plus the dynamic loader. */
export async function sharedLibraries(binary: string): Promise<[string, string][]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP("ldd", [binary]));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string };
    if (e.code === "ENOENT") throw new InfraError("ldd not found: it is needed to build the OTA server image (Debian: libc-bin)");
    if (/not a dynamic executable/.test(e.stdout ?? "")) return [];
    throw new InfraError(`ldd ${binary} failed: ${e.message}`);
  }
  const out: [string, string][] = [];
  for (const line of stdout.split("\n")) {
    if (/=>\s*not found/.test(line)) throw new InfraError(`ldd ${binary}: a library is missing on this host: ${line.trim()}`);
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)"  or  "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /=>\s*(\/\S+)\s+\(0x/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (!m) continue; // linux-vdso.so.1 has no file
    const p = m[1]!;
    out.push([p, realpathSync(p)]);
  }
  return out;
}

async function writeContext(dir: string, files: ContextFile[], dockerfile: string): Promise<void> {
  await fs.writeFile(path.join(dir, "Dockerfile"), dockerfile);
  for (const d of ["tmp", "data"]) {
    const p = path.join(dir, "runtime", d);
    await fs.mkdir(p, { recursive: true });
    await fs.chmod(p, 0o1777);
  }
  await fs.mkdir(path.join(dir, "app"), { recursive: true });
  for (const f of files) {
    const target = path.join(dir, f.layer, ...f.dest.split("/").filter(Boolean));
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (f.content) await fs.writeFile(target, f.content);
    else await fs.copyFile(realpathSync(f.src!), target);
    await fs.chmod(target, f.mode);
  }
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

const fileHashes = new Map<string, { key: string; hash: string }>();

/** sha256 of a file, remembered per process by path + size + mtime (node is ~100 MB). */
async function sha256File(file: string): Promise<string> {
  const st = await fs.stat(file);
  const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const known = fileHashes.get(file);
  if (known?.key === key) return known.hash;
  const h = createHash("sha256");
  await new Promise<void>((resolve, reject) => {
    createReadStream(file)
      .on("data", (c) => h.update(c))
      .on("end", () => resolve())
      .on("error", reject);
  });
  const hash = h.digest("hex");
  fileHashes.set(file, { key, hash });
  return hash;
}

/** Keeps the newest few otarig-server images; older ones (not used by a container) are removed. */
async function pruneOldServerImages(current: string, keep = 3): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ reference: [SERVER_IMAGE_REPO], label: ["otarig=1"] }));
  const res = await engineRequest<{ Id: string; RepoTags?: string[]; Created: number }[]>("GET", `/images/json?filters=${filters}`);
  if (res.status !== 200 || !Array.isArray(res.body)) return;
  const old = res.body
    .filter((img) => !(img.RepoTags ?? []).includes(current))
    .sort((a, b) => b.Created - a.Created)
    .slice(keep - 1);
  for (const img of old) {
    for (const t of img.RepoTags ?? []) {
      if (t.startsWith(`${SERVER_IMAGE_REPO}:`)) await engineRequest("DELETE", `/images/${encodeURI(t)}`);
    }
  }
}
