// What a report says about where a run happened: the rig's boards (serial, port, profile,
// relay) and the machine (host, otarig and Node versions). Plain data for result.json; the
// rig's own spec types stay in the board layer.
import { hostname } from "node:os";
import { basename } from "node:path";
import type { RigSpec } from "../board/spec.ts";

export interface BoardInfo {
  name: string;
  serial: string;
  /** the console port, "virtual" for a virtual board, or whatever locates a remote console */
  port: string;
  profile: string;
  power?: string;
  reset?: string;
}

export interface RunEnvironment {
  host: string;
  otarig: string;
  node: string;
  rig?: string;
  /** set when the run was one shard of a split suite */
  shard?: { index: number; total: number };
}

export const OTARIG_VERSION = "0.1.0";

export function describeBoards(rig: RigSpec, names: string[]): BoardInfo[] {
  return names.flatMap((name) => {
    const b = rig.boards[name];
    if (!b) return [];
    const url = (b.console as { url?: string }).url; // remote consoles (ser2net) name a URL, not a path
    return [
      {
        name,
        serial: b.serialNumber,
        port: url ?? b.console.port ?? (b.virtual ? "virtual (PTY pair)" : "?"),
        profile: basename(b.profile),
        ...(b.power ? { power: "relay" in b.power ? `relay ${b.power.relay} ch ${b.power.channel}` : "virtual" } : {}),
        ...(b.reset ? { reset: describeReset(b.reset) } : {}),
      },
    ];
  });
}

function describeReset(reset: NonNullable<RigSpec["boards"][string]["reset"]>): string {
  if ("relay" in reset) return `relay ${reset.relay} ch ${reset.channel}`;
  if ("method" in reset) return `dtr-rts ${typeof reset.sequence === "string" ? reset.sequence : "custom"}`;
  if ("command" in reset) return `command ${reset.command[0] ?? ""}`;
  return "virtual";
}

export function runEnvironment(rig?: RigSpec, shard?: RunEnvironment["shard"]): RunEnvironment {
  return {
    host: hostname(),
    otarig: OTARIG_VERSION,
    node: process.version,
    ...(rig ? { rig: rig.name } : {}),
    ...(shard ? { shard } : {}),
  };
}
