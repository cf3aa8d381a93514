// Isolated virtual boards: one Linux network namespace per board, joined to the host by a veth
// pair on a /30 of 198.18.0.0/15 (RFC 2544's range for network test beds, so never a lab's real
// addresses). The board program runs inside with `ip netns exec`; its only way out is the host
// side of its veth, and 127.0.0.1 there is its own empty loopback, not the host's. Once its
// proxy listens, egress rules in the namespace (iptables) let it reach that one address and
// port and nothing else: not a server on the host's 0.0.0.0, not the host's other addresses.
//
// Ownership: block k (a /30) is taken by creating /run/otarig/netns/<k>.json exclusively, with the
// owner's PID and process start time, BEFORE its namespace and veth exist, and the file is removed
// last. So a namespace or veth without a live owner's file is stale (a killed run): the next run
// that isolates a board removes it first, and a concurrent live run's are never touched. A block
// whose file exists is never taken, stale or not, until that clean-up has removed it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { InfraError } from "../../core/errors.ts";

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
  /** From now on the board reaches TCP `port` of `address` (its proxy), and nothing else. */
  reachOnly(address: string, port: number): Promise<void>;
  /** removes the namespace (killing what still runs in it), the veth and the ownership file */
  remove(): Promise<void>;
}

export interface NetnsOptions {
  /** says what it removes, and why */
  onLog?: (line: string) => void;
}

interface Owner {
  pid: number;
  start: string;
}

/** Ownership files: one place for every run on the host (/run is emptied at boot, as namespaces are). */
const STATE_DIR = "/run/otarig/netns";
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

export async function createIsolatedNetwork(): Promise<IsolatedNetwork> {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const me: Owner = { pid: process.pid, start: processStart(process.pid)! };
  for (let k = 0; k < BLOCKS; k++) {
    if (!claim(k, me)) continue;
    const network = networkOf(k);
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

/** Takes block k by creating its ownership file (exclusively: of runs starting at once, one gets it). */
function claim(k: number, me: Owner): boolean {
  try {
    writeFileSync(stateFile(k), JSON.stringify({ ...me, namespace: names(k).namespace }), { flag: "wx" });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false; // live, or stale until the next clean-up
    throw new InfraError(`cannot record network namespace ownership in ${STATE_DIR}: ${(err as Error).message}`);
  }
}

/**
 * Removes namespaces, veths and ownership files of runs that are gone. Returns what it removed.
 * Runs starting at once may all do this: each removal step first checks the block still holds
 * the gone owner's file, so a block another cleaner freed and a new run took is never touched.
 */
export async function removeStaleNetworks(options: NetnsOptions = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const k of blocksOnFile()) {
    const text = readText(stateFile(k));
    if (text === undefined || !ownerIsGone(text)) continue;
    options.onLog?.(`removing network namespace ${names(k).namespace} (stale, its run is gone)`);
    if (await removeBlock(k, () => readText(stateFile(k)) === text)) removed.push(names(k).namespace);
  }
  // Leftovers without an ownership file: never a live run's, whose file exists before its namespace
  // and until after it is gone. The files are read after the listing, so a run that is starting counts.
  const namespaces = await ip(["netns", "list"]);
  const links = await ip(["-o", "link", "show"]);
  const onFile = new Set(blocksOnFile());
  const noFile = (k: number) => () => readText(stateFile(k)) === undefined;
  for (const m of namespaces.matchAll(new RegExp(`^${PREFIX}-(\\d+)\\b`, "gm"))) {
    const k = Number(m[1]);
    if (onFile.has(k)) continue;
    options.onLog?.(`removing network namespace ${names(k).namespace} (left behind)`);
    if (await removeBlock(k, noFile(k))) removed.push(names(k).namespace);
  }
  for (const m of links.matchAll(new RegExp(`^\\d+: (${PREFIX}(\\d+)h)@`, "gm"))) {
    const k = Number(m[2]);
    if (onFile.has(k) || removed.includes(names(k).namespace) || !noFile(k)()) continue;
    await ipQuiet(["link", "del", m[1]!]);
    removed.push(m[1]!);
  }
  return removed;
}

function blocksOnFile(): number[] {
  try {
    return readdirSync(STATE_DIR)
      .map((f) => Number(/^(\d+)\.json$/.exec(f)?.[1] ?? NaN))
      .filter(Number.isInteger);
  } catch {
    return []; // no state dir: nothing was ever made here
  }
}

function networkOf(k: number): IsolatedNetwork {
  const n = names(k);
  let removed: Promise<void> | undefined;
  return {
    namespace: n.namespace,
    hostInterface: n.host,
    hostAddress: ipv4(BASE + 4 * k + 1),
    boardAddress: ipv4(BASE + 4 * k + 2),
    exec: ["ip", "netns", "exec", n.namespace],
    reachOnly: (address, port) => restrictEgress(n.namespace, address, port),
    remove: () => (removed ??= removeBlock(k, () => true).then(() => undefined)),
  };
}

async function setUp(net: IsolatedNetwork, k: number): Promise<void> {
  const n = names(k);
  // Two `ip -batch` calls, not eight processes: a fleet makes its namespaces side by side.
  await ipBatch(n.namespace, [], [
    `netns add ${n.namespace}`,
    `link add ${n.host} type veth peer name ${n.board} netns ${n.namespace}`,
    `addr add ${net.hostAddress}/30 dev ${n.host}`,
    `link set ${n.host} up`,
  ]);
  await ipBatch(n.namespace, ["-n", n.namespace], [
    `addr add ${net.boardAddress}/30 dev ${n.board}`,
    `link set ${n.board} up`,
    "link set lo up",
    // The default route lets a board reach any address of this host through its veth (a bench
    // address on eth0, say), as a board on the lab network would; nothing is forwarded beyond.
    `route add default via ${net.hostAddress}`,
  ]);
}

/**
 * The namespace's filter table, replaced in one `iptables-restore`: what the board sends goes
 * out only to the proxy (and its own loopback, and answers to connections made to it); anything
 * else is refused at once (a TCP reset, an ICMP unreachable), so a board fails fast and visibly.
 */
async function restrictEgress(namespace: string, address: string, port: number): Promise<void> {
  const rules = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT DROP [0:0]",
    "-A OUTPUT -o lo -j ACCEPT",
    "-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    `-A OUTPUT -p tcp -d ${address} --dport ${port} -j ACCEPT`,
    "-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset",
    "-A OUTPUT -j REJECT --reject-with icmp-port-unreachable",
    "COMMIT",
    "",
  ].join("\n");
  const r = await execa("ip", ["netns", "exec", namespace, "iptables-restore"], { input: rules, reject: false, all: true, timeout: IP_TIMEOUT_MS });
  if (r.failed) {
    const why = r.code === "ENOENT" || /iptables-restore.*(not found|No such file)/.test(r.all ?? "") ? "iptables is not installed (sudo apt-get install iptables)" : (r.all?.trim() || r.message);
    throw new InfraError(`isolated network ${namespace}: cannot set its egress rules: ${why}`);
  }
}

async function ipBatch(namespace: string, options: string[], lines: string[]): Promise<void> {
  const r = await execa("ip", [...options, "-batch", "-"], { input: lines.join("\n") + "\n", reject: false, all: true, timeout: IP_TIMEOUT_MS });
  if (r.failed) {
    const why = r.timedOut ? `did not finish within ${IP_TIMEOUT_MS / 1000} s` : (r.all?.trim() || r.message);
    throw new InfraError(`isolated network ${namespace}: ip ${[...options, "-batch"].join(" ")} failed: ${why}`);
  }
}

/**
 * Kills what still runs in block k's namespace, deletes the namespace (which takes the veth pair
 * with it), the host end in case the namespace was never made, and the ownership file, last.
 * `mine()` is asked before each step; false stops the removal (the block changed hands).
 */
async function removeBlock(k: number, mine: () => boolean): Promise<boolean> {
  const n = names(k);
  if (!mine()) return false;
  const pids = (await ip(["netns", "pids", n.namespace])).split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  if (!mine()) return false;
  await ipQuiet(["netns", "del", n.namespace]);
  if (!mine()) return false;
  await ipQuiet(["link", "del", n.host]);
  if (!mine()) return false;
  rmSync(stateFile(k), { force: true });
  return true;
}

/** Whether the run an ownership file names is gone (a PID alone could be reused: its start time too). */
function ownerIsGone(text: string): boolean {
  let owner: Owner;
  try {
    owner = JSON.parse(text) as Owner;
  } catch {
    return false; // being written right now: never take what might be live
  }
  return processStart(owner.pid) !== owner.start;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

const stateFile = (k: number) => join(STATE_DIR, `${k}.json`);

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
