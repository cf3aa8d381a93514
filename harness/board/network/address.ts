// The bench address: where a rig's boards reach this runner (its proxies to the OTA server
// listen there). `auto` is loopback when every board is a virtual one on this host, else the
// address of the interface that holds the default route; a real board on the lab network can
// never reach the runner's 127.0.0.1.
import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { isIP } from "node:net";
import { InfraError, type SourcePosition } from "../../core/errors.ts";
import type { BoardSpec, NetworkSpec } from "../spec.ts";

export interface BenchAddress {
  /** the address the boards' proxies listen on (an isolated board's own veth under auto: see below) */
  address: string;
  /** how it was chosen, in words for run.log and `rig doctor` */
  how: string;
  /** one line for run.log: the address (or "each isolated board's veth") and how it was chosen */
  summary: string;
  /** under auto, each isolated virtual board's proxy listens on the host side of its own veth */
  isolatedOnTheirVeth: boolean;
  ports?: { first: number; last: number };
}

export function resolveBenchAddress(network: NetworkSpec | undefined, boards: BoardSpec[]): BenchAddress {
  const bench = resolve(network, boards);
  const allIsolated = boards.length > 0 && boards.every((b) => b.virtual?.isolated);
  const where = bench.isolatedOnTheirVeth && allIsolated ? "the host side of each board's veth" : bench.address;
  return { ...bench, summary: `boards reach this runner at ${where} (${bench.how})` };
}

function resolve(network: NetworkSpec | undefined, boards: BoardSpec[]): Omit<BenchAddress, "summary"> {
  const setting = network?.address ?? "auto";
  const at = where(network?.pos.address);
  const ports = network?.ports ? { ports: network.ports } : {};
  const interfaces = networkInterfaces();
  if (setting === "auto") {
    const isolated = boards.some((b) => b.virtual?.isolated);
    const physical = boards.filter((b) => !runsOnThisHost(b));
    if (physical.length === 0) {
      const plain = boards.length - boards.filter((b) => b.virtual?.isolated).length;
      const how = !isolated
        ? "auto: every board is virtual (a program or a QEMU guest on this host)"
        : plain === 0
          ? "auto: every board is an isolated virtual board"
          : "auto: every board is virtual; isolated ones reach the host side of their own veth";
      return { address: "127.0.0.1", how, isolatedOnTheirVeth: true, ...ports };
    }
    const route = defaultRouteInterface();
    if (!route) {
      throw new InfraError(
        `${at}network.address auto: this host has no default route, so no address the boards (${physical.map((b) => b.name).join(", ")}) could reach; set network.address to an address or interface of the bench network`,
      );
    }
    const address = firstIPv4(interfaces, route);
    if (!address) throw new InfraError(`${at}network.address auto: ${route}, the interface of the default route, has no IPv4 address`);
    return { address, how: `auto: ${route}, the interface of the default route`, isolatedOnTheirVeth: false, ...ports };
  }
  if (isIP(setting)) {
    const mine = Object.values(interfaces).flatMap((list) => list ?? []).map((i) => i.address);
    if (!mine.includes(setting)) {
      throw new InfraError(`${at}network.address ${setting} is not an address of this host (its addresses: ${mine.join(", ")})`);
    }
    return { address: setting, how: "as written", isolatedOnTheirVeth: false, ...ports };
  }
  const names = Object.keys(interfaces);
  // networkInterfaces() lists only interfaces with an address: one that exists but has none (down,
  // unconfigured) is not "unknown".
  if (!names.includes(setting) && !existsSync(`/sys/class/net/${setting}`)) {
    throw new InfraError(`${at}network.address: no interface "${setting}" on this host (its interfaces: ${names.join(", ")})`);
  }
  const address = firstIPv4(interfaces, setting);
  if (!address) throw new InfraError(`${at}network.address: interface ${setting} has no IPv4 address (is it up and configured?)`);
  return { address, how: `interface ${setting}`, isolatedOnTheirVeth: false, ...ports };
}

/** Where a board's proxy listens: the bench address, or, under auto, an isolated board's own veth. */
export function listenAddressFor(bench: BenchAddress, vethHostAddress: string | undefined): string {
  return bench.isolatedOnTheirVeth && vethHostAddress ? vethHostAddress : bench.address;
}

export function isLoopbackAddress(address: string): boolean {
  return address === "::1" || address.startsWith("127.");
}

function firstIPv4(interfaces: ReturnType<typeof networkInterfaces>, name: string): string | undefined {
  return interfaces[name]?.find((i) => i.family === "IPv4")?.address;
}

/** The interface of the IPv4 default route with the lowest metric (from /proc/net/route). */
export function defaultRouteInterface(): string | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/net/route", "utf8");
  } catch {
    return undefined; // not Linux: no default route known; an explicit address still works
  }
  const routes = text
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[1] === "00000000" && f[7] === "00000000")
    .map((f) => ({ iface: f[0]!, metric: Number(f[6]) }))
    .sort((a, b) => a.metric - b.metric);
  return routes[0]?.iface;
}

function where(pos: SourcePosition | undefined): string {
  return pos ? `${pos.file}:${pos.line}:${pos.col}: ` : "";
}

/** A virtual board's program or a QEMU guest: it reaches its proxy on this host's loopback. */
export function runsOnThisHost(board: BoardSpec): boolean {
  return board.virtual !== undefined || board.qemu !== undefined;
}
