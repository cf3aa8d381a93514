// rig doctor's network lines: where the rig's boards will reach this runner (the bench address
// and port range), whether that address is on this host and the ports are free, and whether
// isolated virtual boards can be made here.
import { createServer } from "node:net";
import { InfraError } from "../core/errors.ts";
import { isLoopbackAddress, resolveBenchAddress, runsOnThisHost } from "../board/network/address.ts";
import { requireNetnsSupport } from "../board/network/netns.ts";
import type { RigSpec } from "../scenario/types.ts";

type Add = (level: "ok" | "warn" | "FAIL", what: string, detail: string) => void;

/** Ports tried at most (binding is cheap, but a typo like 1-65535 should not take long). */
const MAX_PORTS_CHECKED = 2000;

export async function checkNetwork(rig: RigSpec, add: Add): Promise<void> {
  const boards = Object.values(rig.boards);
  let bench;
  try {
    bench = resolveBenchAddress(rig.network, boards);
  } catch (err) {
    if (!(err instanceof InfraError)) throw err;
    add("FAIL", "network", err.message);
    return;
  }
  const isolated = boards.filter((b) => b.virtual?.isolated).map((b) => b.name);
  const real = boards.filter((b) => !runsOnThisHost(b)).map((b) => b.name);
  const onVeth = isolated.length > 0 && bench.isolatedOnTheirVeth;
  const others = boards.length - isolated.length;
  add(
    "ok",
    "network",
    onVeth
      ? `boards reach this runner on the host side of their own veth, 198.18.0.0/15 (auto; isolated: ${isolated.join(", ")})${others ? `; the other boards at ${bench.address}` : ""}`
      : `boards reach this runner at ${bench.address} (${bench.how})`,
  );
  if (real.length > 0 && isLoopbackAddress(bench.address)) {
    add("warn", "network", `${real.join(", ")} ${real.length > 1 ? "are real boards" : "is a real board"}, but ${bench.address} is loopback: a board on the bench cannot reach it; set network.address to the bench network's address or interface`);
  }
  if (bench.ports) {
    const host = onVeth ? "0.0.0.0" : bench.address; // veths exist only during a run
    const { first, last } = bench.ports;
    const inUse = await portsInUse(host, first, Math.min(last, first + MAX_PORTS_CHECKED - 1));
    const size = last - first + 1;
    const free = size - inUse.length;
    const level = free < boards.length ? "FAIL" : inUse.length ? "warn" : "ok";
    const busy = inUse.length ? `; in use: ${inUse.slice(0, 10).join(", ")}${inUse.length > 10 ? " …" : ""}` : "";
    add(level, "network ports", `${first}-${last}: ${free} of ${size} free for ${boards.length} board prox${boards.length === 1 ? "y" : "ies"}${busy} (open this range in the bench's firewall)`);
  } else {
    add("ok", "network ports", "any free port (set network.ports to a range a firewall can open)");
  }
  if (isolated.length > 0) {
    try {
      await requireNetnsSupport();
      add("ok", "isolated boards", `${isolated.join(", ")}: network namespaces and veth pairs can be made here`);
    } catch (err) {
      if (!(err instanceof InfraError)) throw err;
      add("FAIL", "isolated boards", err.message);
    }
  }
}

async function portsInUse(host: string, first: number, last: number): Promise<number[]> {
  const busy: number[] = [];
  for (let port = first; port <= last; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen({ host, port }, () => server.close(() => resolve(true)));
    });
    if (!ok) busy.push(port);
  }
  return busy;
}
