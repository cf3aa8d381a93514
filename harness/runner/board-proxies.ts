// One TCP proxy per board between it and the server: `fault.network` breaks the link there, and
// a server restart on a new port only moves the proxies' target. Each listens on the rig's bench
// address (an isolated board's own veth under `auto`), on a port from the rig's range when it
// has one, and boards reach the server through ${boards.<b>.server_url}: an isolated board only
// there (its namespace's egress rules).
import { InfraError } from "../core/errors.ts";
import type { EventBus } from "../core/events.ts";
import { NetworkProxy } from "../faults/network-proxy.ts";
import { listenAddressFor, type BenchAddress } from "../board/network/address.ts";
import type { OtaServer } from "../server/types.ts";
import type { RigSession } from "./rig-session.ts";

export async function startBoardProxies(
  session: RigSession,
  server: OtaServer,
  bench: BenchAddress,
  bus: EventBus,
  proxies: Map<string, NetworkProxy>,
): Promise<void> {
  const taken = new Map<string, Set<number>>(); // per listen address: ports this run holds
  for (const [name, handle] of session.handles) {
    const host = listenAddressFor(bench, handle.network?.hostAddress);
    const onEvent = (message: string) => bus.emit({ type: "log", level: "info", source: `network ${name}`, message });
    const proxy = bench.ports
      ? await startInRange(host, bench.ports, taken, server.url, onEvent)
      : await NetworkProxy.start({ target: server.url, listenHost: host, onEvent });
    proxies.set(name, proxy); // as each starts: a failure half-way leaks none
    // An isolated board reaches its proxy and nothing else of this host.
    await handle.network?.reachOnly(host, proxy.port);
    handle.board.fields.server_url = proxy.url;
    bus.emit({ type: "log", level: "info", source: `network ${name}`, message: `board reaches the server at ${proxy.url}` });
  }
}

/** The first port of the range that is free on `host` (another run may hold some of them). */
async function startInRange(
  host: string,
  range: { first: number; last: number },
  taken: Map<string, Set<number>>,
  target: string,
  onEvent: (message: string) => void,
): Promise<NetworkProxy> {
  const mine = taken.get(host) ?? new Set<number>();
  taken.set(host, mine);
  let busy = 0;
  for (let port = range.first; port <= range.last; port++) {
    if (mine.has(port)) continue;
    try {
      const proxy = await NetworkProxy.start({ target, listenHost: host, listenPort: port, onEvent });
      mine.add(port);
      return proxy;
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      if (code !== "EADDRINUSE") throw err;
      busy++;
    }
  }
  throw new InfraError(
    `network.ports ${range.first}-${range.last} is exhausted on ${host}: this run holds ${mine.size} of its ports and ${busy} are in use by other programs; widen the range or wait for other runs`,
  );
}
