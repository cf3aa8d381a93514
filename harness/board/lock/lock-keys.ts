// What a board needs exclusively, as lock keys: the physical things two runs could fight over.
// Keys name the thing itself (a port by its resolved device path, so /dev/serial/by-id/… and
// /dev/ttyUSB0 are one key; a relay channel by its module's port), never a rig or board name, so
// two rig files that describe the same bench exclude each other.
// A relay module as a whole is not locked for a run: boards on different channels of one module
// may run at once; its port is taken only while switching (see relaySwitchKey).
// New kinds of board add their keys here (a QEMU board's disk image, a remote console's
// URL); a labgrid place takes none (the coordinator locks it).
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import type { BoardSpec, RelaySpec } from "../spec.ts";

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
}

export function boardLockKeys(spec: BoardSpec, ctx: LockKeyContext): LockKey[] {
  const keys: LockKey[] = [];
  if (spec.labgrid) return keys; // the lab's coordinator locks a labgrid place
  const of = `board ${spec.name} (rig ${ctx.rigName})`;
  if (spec.console.port && !spec.virtual) keys.push({ key: `port:${devicePath(spec.console.port)}`, what: `console of ${of}` });
  if (spec.console.url) keys.push({ key: `console:${spec.console.url}`, what: `network console of ${of}` });
  if (spec.virtual && ctx.virtualDir) keys.push({ key: `virtual:${resolve(ctx.virtualDir, spec.name)}`, what: `virtual ${of}` });
  // a QEMU board's disk image, where it outlives one run (board commands); per run it is the run's own
  if (spec.qemu && ctx.virtualDir) keys.push({ key: `qemu-disk:${resolve(ctx.virtualDir, spec.name, "disk.img")}`, what: `QEMU disk of ${of}` });
  if (spec.power && "relay" in spec.power) {
    const k = relayChannelKey(ctx.relays[spec.power.relay], spec.power.channel);
    if (k) keys.push({ key: k, what: `power of ${of}: relay ${spec.power.relay} channel ${spec.power.channel}` });
  }
  if (spec.reset && "relay" in spec.reset) {
    const k = relayChannelKey(ctx.relays[spec.reset.relay], spec.reset.channel);
    if (k) keys.push({ key: k, what: `reset of ${of}: relay ${spec.reset.relay} channel ${spec.reset.channel}` });
  }
  return keys;
}

/** A relay channel in use for a whole run. Virtual relays are private to a session: no key. */
export function relayChannelKey(relay: RelaySpec | undefined, channel: number): string | undefined {
  const module = relay ? relayModuleId(relay) : undefined;
  return module ? `relay:${module}#${channel}` : undefined;
}

/** The short lock a relay module's port is held under while one switch is sent (undefined: nothing shared). */
export function relaySwitchKey(relay: RelaySpec): string | undefined {
  return relay.type === "lcus" || relay.type === "serial-text" ? `port:${devicePath(relay.port)}` : undefined;
}

function relayModuleId(relay: RelaySpec): string | undefined {
  switch (relay.type) {
    case "lcus":
    case "serial-text":
      return devicePath(relay.port);
    case "command":
      return `command:${relay.on.join(" ")}`;
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
