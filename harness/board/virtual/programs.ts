// The virtual device programs, compiled once to plain JavaScript. Started through tsx each
// costs ~0.3 s of CPU; a fleet starts one per board and per power cycle, so the harness runs a
// cached esbuild bundle instead (rebuilt when any file under devices/ changes) and falls back
// to tsx if bundling is not possible.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "./paths.ts";

const DEVICES_DIR = join(REPO_ROOT, "devices");
// By its real path: a program checks it is the main module by comparing its own URL with
// argv[1], and Node resolves symlinks for the one but not the other (a node_modules that is a
// symlink, as in a git worktree sharing another checkout's, would run nothing and exit 0).
const CACHE_DIR = join(realNodeModules(), ".cache", "otarig", "devices");

function realNodeModules(): string {
  const dir = join(REPO_ROOT, "node_modules");
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** How to run a program: node's arguments before the program's own. */
export type ProgramCommand = string[];

const built = new Map<string, Promise<ProgramCommand>>();

/** `node` arguments that run `entry` (a .ts file under devices/). */
export function programCommand(entry: string): Promise<ProgramCommand> {
  let command = built.get(entry);
  if (!command) {
    command = bundle(entry).catch(() => ["--import", "tsx", entry]);
    built.set(entry, command);
  }
  return command;
}

async function bundle(entry: string): Promise<ProgramCommand> {
  const name = relative(DEVICES_DIR, entry).replace(/[\\/]/g, "-").replace(/\.ts$/, "");
  const out = join(CACHE_DIR, `${name}-${sourceHash()}.mjs`);
  if (existsSync(out)) return [out];
  const { build } = await import("esbuild");
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await build({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external", // serialport & co. resolve from node_modules as usual
    logLevel: "silent",
  });
  renameSync(tmp, out); // atomic: two harnesses building at once both end with a whole file
  return [out];
}

let hash: string | undefined;
function sourceHash(): string {
  if (hash) return hash;
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) h.update(path).update(readFileSync(path));
    }
  };
  walk(DEVICES_DIR);
  walk(join(REPO_ROOT, "harness", "board", "qemu")); // the QEMU flasher bundles the disk layout from there
  walk(join(REPO_ROOT, "harness", "ota")); // the board's firmware bundles the device side of the protocol (device-client.ts)
  return (hash = h.digest("hex").slice(0, 12));
}
