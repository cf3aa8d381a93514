// What a board needs exclusively, as lock keys: the physical things two runs could fight over.
// Keys name the thing itself, never a rig or board name, so two rig files that describe the same
// bench exclude each other however they spell it: a port by its resolved device path
// (/dev/serial/by-id/… and /dev/ttyUSB0 are one key), a network console by the address its host
// resolves to and its port (a host name and its IP, tcp:// and rfc2217:// to one port server are
// one key), a relay channel by its module's port, or for a command relay by its program's
// resolved path.
// A relay module as a whole is not locked for a run: boards on different channels of one module
// may run at once; its port is taken only while switching (see relaySwitchKey).
// New kinds of board add their keys here (a QEMU board's disk image, a remote console's
// URL); a labgrid place takes none (the coordinator locks it).
import { accessSync, constants, realpathSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { delimiter, join, resolve } from "node:path";
import type { BoardSpec, RelaySpec } from "../spec.ts";
import { parseConsoleUrl } from "../console/network/console-url.ts";

export interface LockKey {
  key: string;
  /** in words, for messages and `rig locks` */
  what: string;
}

export interface LockKeyContext {
  rigName: string;
  relays: Record<string, RelaySpec>;
  /** where a virtual board keeps its flash when it outlives one run (board commands); absent: per run, nothing to lock */
  virtualDir?: string;
  /** the rig file's directory: where a command relay's relative program path starts */
  rigDir?: string;
}

export async function boardLockKeys(spec: BoardSpec, ctx: LockKeyContext): Promise<LockKey[]> {
  const keys: LockKey[] = [];
  if (spec.labgrid) return keys; // the lab's coordinator locks a labgrid place
  const of = `board ${spec.name} (rig ${ctx.rigName})`;
  if (spec.console.port && !spec.virtual) keys.push({ key: `port:${devicePath(spec.console.port)}`, what: `console of ${of}` });
  if (spec.console.url) keys.push({ key: await networkConsoleKey(spec.console.url), what: `network console of ${of}` });
  if (spec.virtual && ctx.virtualDir) keys.push({ key: `virtual:${resolve(ctx.virtualDir, spec.name)}`, what: `virtual ${of}` });
  // a QEMU board's disk image, where it outlives one run (board commands); per run it is the run's own
  if (spec.qemu && ctx.virtualDir) keys.push({ key: `qemu-disk:${resolve(ctx.virtualDir, spec.name, "disk.img")}`, what: `QEMU disk of ${of}` });
  if (spec.power && "relay" in spec.power) {
    const k = relayChannelKey(ctx.relays[spec.power.relay], spec.power.channel, ctx.rigDir);
    if (k) keys.push({ key: k, what: `power of ${of}: relay ${spec.power.relay} channel ${spec.power.channel}` });
  }
  if (spec.reset && "relay" in spec.reset) {
    const k = relayChannelKey(ctx.relays[spec.reset.relay], spec.reset.channel, ctx.rigDir);
    if (k) keys.push({ key: k, what: `reset of ${of}: relay ${spec.reset.relay} channel ${spec.reset.channel}` });
  }
  return keys;
}

/** A relay channel in use for a whole run. Virtual relays are private to a session: no key. */
export function relayChannelKey(relay: RelaySpec | undefined, channel: number, rigDir?: string): string | undefined {
  const module = relay ? relayModuleId(relay, rigDir) : undefined;
  return module ? `relay:${module}#${channel}` : undefined;
}

/** The short lock a relay module's port is held under while one switch is sent (undefined: nothing shared). */
export function relaySwitchKey(relay: RelaySpec): string | undefined {
  return relay.type === "lcus" || relay.type === "serial-text" ? `port:${devicePath(relay.port)}` : undefined;
}

function relayModuleId(relay: RelaySpec, rigDir?: string): string | undefined {
  switch (relay.type) {
    case "lcus":
    case "serial-text":
      return devicePath(relay.port);
    case "command":
      return `command:${programPath(relay.on[0] ?? "", rigDir)}`;
    case "virtual":
      return undefined;
  }
}

/** The device a port path leads to (/dev/serial/by-id/… -> /dev/ttyUSB0); as written when it does not exist. */
export function devicePath(port: string): string {
  try {
    return realpathSync(port);
  } catch {
    return resolve(port);
  }
}

/**
 * A network console's key: the address its host resolves to (IPv4 first, then the lowest, so a
 * name that resolves to several gives the same one every time) and its port; not the transport.
 * A host that does not resolve keeps its name (opening it will fail and say so).
 */
export async function networkConsoleKey(url: string): Promise<string> {
  const { host, port } = parseConsoleUrl(url);
  let address = host.toLowerCase();
  try {
    const all = await lookup(host, { all: true });
    const ordered = all.sort((a, b) => a.family - b.family || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    if (ordered[0]) address = ordered[0].address;
  } catch {
    // not resolvable now: as written
  }
  return `netconsole:${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/** The program a command runs, as a path: relative to the rig's directory, else found on PATH; links resolved. */
function programPath(program: string, rigDir = process.cwd()): string {
  const candidates = program.includes("/")
    ? [resolve(rigDir, program)]
    : (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate);
    } catch {
      // not this one
    }
  }
  return program;
}
