// Isolated virtual boards: one Linux network namespace per board, joined to the host by a veth
// pair on a /30 of 198.18.0.0/15 (RFC 2544's range for network test beds, so never a lab's real
// addresses). The board program runs inside with `ip netns exec`; its only way out is the host
// side of its veth, and 127.0.0.1 there is its own empty loopback, not the host's.
//
// Ownership: block k (a /30) is taken by creating /run/otarig/netns/<k>.json exclusively, with the
// owner's PID and process start time, BEFORE its namespace and veth exist, and the file is removed
// last. So a namespace or veth without a live owner's file is stale (a killed run) and is removed
// at the next start, while a concurrent live run's are never touched.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { InfraError } from "../../core/errors.ts";
import { runTool } from "../exec.ts";

const PREFIX = "otarig";
const BLOCKS = 1 << 15; // /30 blocks in 198.18.0.0/15
const BASE = ((198 << 24) | (18 << 16)) >>> 0;
const IP_TIMEOUT_MS = 10_000;

export interface IsolatedNetwork {
  namespace: string;
  hostInterface: string;
  /** the host side of the veth: the board's way to the runner */
  hostAddress: string;
  boardAddress: string;
  /** argv that runs a program inside the namespace: [...exec, program, ...args] */
  exec: string[];
  /** removes the namespace (killing what still runs in it), the veth and the ownership file */
  remove(): Promise<void>;
}

export interface NetnsOptions {
  /** where ownership files live (default /run/otarig/netns; /run is emptied at boot, as namespaces are) */
  stateDir?: string;
  onLog?: (line: string) => void;
}

interface Owner {
  pid: number;
  start: string;
}

const stateDirOf = (o: NetnsOptions) => o.stateDir ?? "/run/otarig/netns";
const names = (k: number) => ({ namespace: `${PREFIX}-${k}`, host: `${PREFIX}${k}h`, board: `${PREFIX}${k}b` });

/** Fails with exit 3 and what is missing when this process cannot make namespaces. */
export async function requireNetnsSupport(): Promise<void> {
  const missing = missingCapabilities();
  if (missing.length > 0) {
    throw new InfraError(
      `isolated virtual boards need ${missing.join(" and ")} to make network namespaces and veth pairs; ` +
        `run as root (e.g. sudo), or use a rig without "virtual: { isolated: true }"`,
    );
  }
  const ip = await execa("ip", ["-V"], { reject: false, timeout: IP_TIMEOUT_MS });
  if (ip.failed) throw new InfraError('isolated virtual boards need the "ip" command of iproute2: sudo apt-get install iproute2');
}

function missingCapabilities(): string[] {
  let eff: bigint;
  try {
    const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    eff = BigInt(`0x${line?.[1] ?? "0"}`);
  } catch {
    return ["Linux network namespaces"];
  }
  const need: Array<[string, bigint]> = [
    ["CAP_NET_ADMIN", 12n],
    ["CAP_SYS_ADMIN", 21n], // `ip netns add` bind-mounts the namespace under /run/netns
  ];
  return need.filter(([, bit]) => (eff & (1n << bit)) === 0n).map(([name]) => name);
}

export async function createIsolatedNetwork(options: NetnsOptions = {}): Promise<IsolatedNetwork> {
  const dir = stateDirOf(options);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const me: Owner = { pid: process.pid, start: processStart(process.pid)! };
  for (let k = 0; k < BLOCKS; k++) {
    const file = join(dir, `${k}.json`);
    try {
      writeFileSync(file, JSON.stringify({ ...me, namespace: names(k).namespace }), { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new InfraError(`cannot record network namespace ownership in ${dir}: ${(err as Error).message}`);
      if (!ownerIsGone(file)) continue;
      await removeBlock(k, dir, options, "stale, its run is gone");
      k--; // take it now
      continue;
    }
    const network = networkOf(k, dir, options);
    try {
      await setUp(network, k);
    } catch (err) {
      await network.remove();
      throw err;
    }
    return network;
  }
  throw new InfraError(`no free test subnet left in 198.18.0.0/15 (${BLOCKS} isolated boards are in use on this host)`);
}

/** Removes namespaces, veths and ownership files of runs that are gone. Returns what it removed. */
export async function removeStaleNetworks(options: NetnsOptions = {}): Promise<string[]> {
  const dir = stateDirOf(options);
  const removed: string[] = [];
  const owned = new Set<number>();
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    /* no state dir: nothing was ever made here */
  }
  for (const f of files) {
    const k = Number(/^(\d+)\.json$/.exec(f)?.[1] ?? NaN);
    if (!Number.isInteger(k)) continue;
    if (ownerIsGone(join(dir, f))) {
      await removeBlock(k, dir, options, "stale, its run is gone");
      removed.push(names(k).namespace);
    } else owned.add(k);
  }
  // Leftovers without an ownership file (removed last, so never a live run's).
  const namespaces = await ip(["netns", "list"]);
  for (const m of namespaces.matchAll(new RegExp(`^${PREFIX}-(\\d+)\\b`, "gm"))) {
    const k = Number(m[1]);
    if (owned.has(k)) continue;
    await removeBlock(k, dir, options, "left behind");
    removed.push(names(k).namespace);
  }
  const links = await ip(["-o", "link", "show"]);
  for (const m of links.matchAll(new RegExp(`^\\d+: (${PREFIX}(\\d+)h)@`, "gm"))) {
    const k = Number(m[2]);
    if (owned.has(k) || removed.includes(names(k).namespace)) continue;
    await ipQuiet(["link", "del", m[1]!]);
    removed.push(m[1]!);
  }
  return removed;
}

function networkOf(k: number, dir: string, options: NetnsOptions): IsolatedNetwork {
  const n = names(k);
  let removed: Promise<void> | undefined;
  return {
    namespace: n.namespace,
    hostInterface: n.host,
    hostAddress: ipv4(BASE + 4 * k + 1),
    boardAddress: ipv4(BASE + 4 * k + 2),
    exec: ["ip", "netns", "exec", n.namespace],
    remove: () => (removed ??= removeBlock(k, dir, options)),
  };
}

async function setUp(net: IsolatedNetwork, k: number): Promise<void> {
  const n = names(k);
  const what = `isolated network ${n.namespace}`;
  const run = (args: string[]) => runTool({ command: ["ip", ...args], timeoutMs: IP_TIMEOUT_MS, what });
  await run(["netns", "add", n.namespace]);
  await run(["link", "add", n.host, "type", "veth", "peer", "name", n.board, "netns", n.namespace]);
  await run(["addr", "add", `${net.hostAddress}/30`, "dev", n.host]);
  await run(["link", "set", n.host, "up"]);
  await run(["-n", n.namespace, "addr", "add", `${net.boardAddress}/30`, "dev", n.board]);
  await run(["-n", n.namespace, "link", "set", n.board, "up"]);
  await run(["-n", n.namespace, "link", "set", "lo", "up"]);
  // The default route lets a board reach any address of this host through its veth (a bench
  // address on eth0, say), as a board on the lab network would; nothing is forwarded beyond.
  await run(["-n", n.namespace, "route", "add", "default", "via", net.hostAddress]);
}

async function removeBlock(k: number, dir: string, options: NetnsOptions, why?: string): Promise<void> {
  const n = names(k);
  if (why) options.onLog?.(`removing network namespace ${n.namespace} (${why})`);
  const pids = (await ip(["netns", "pids", n.namespace])).split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  await ipQuiet(["netns", "del", n.namespace]); // takes the board end of the veth, and so its peer
  await ipQuiet(["link", "del", n.host]); // in case the namespace was never made
  rmSync(join(dir, `${k}.json`), { force: true }); // last: see the ownership note at the top
}

function ownerIsGone(file: string): boolean {
  let owner: Owner;
  try {
    owner = JSON.parse(readFileSync(file, "utf8")) as Owner;
  } catch {
    return false; // being written right now (or unreadable): never take what might be live
  }
  return processStart(owner.pid) !== owner.start;
}

/** A process's start time (clock ticks since boot): with the PID it names one process, even after PID reuse. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

async function ip(args: string[]): Promise<string> {
  const r = await execa("ip", args, { reject: false, timeout: IP_TIMEOUT_MS });
  return r.failed ? "" : r.stdout;
}

async function ipQuiet(args: string[]): Promise<void> {
  await execa("ip", args, { reject: false, timeout: IP_TIMEOUT_MS });
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}
