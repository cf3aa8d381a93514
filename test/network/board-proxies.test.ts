// Board proxies on the bench address: ports from the rig's range, skipping ones in use.
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startBoardProxies } from "../../harness/runner/board-proxies.ts";
import { EventBus } from "../../harness/core/events.ts";
import type { NetworkProxy } from "../../harness/faults/network-proxy.ts";
import type { RigSession } from "../../harness/runner/rig-session.ts";
import type { OtaServer } from "../../harness/server/types.ts";
import type { BoardHandle } from "../../harness/runner/board-handle.ts";

const holders: Server[] = [];
const proxies = new Map<string, NetworkProxy>();
afterEach(async () => {
  for (const p of proxies.values()) await p.close();
  proxies.clear();
  for (const h of holders.splice(0)) h.close();
});

const listen = (port: number) =>
  new Promise<Server | undefined>((ok) => {
    const s = createServer();
    s.once("error", () => ok(undefined));
    s.listen({ host: "127.0.0.1", port }, () => ok(s));
  });

/** Three consecutive ports, the first held by "another program" and the other two free now. */
async function rangeWithFirstBusy(): Promise<number> {
  for (let first = 42000; first < 43000; first += 3) {
    const held = await listen(first);
    if (!held) continue;
    const rest = await Promise.all([listen(first + 1), listen(first + 2)]);
    const free = rest.every(Boolean);
    await Promise.all(rest.map((s) => s && new Promise((ok) => s.close(ok))));
    if (free) {
      holders.push(held);
      return first;
    }
    held.close();
  }
  throw new Error("no three free consecutive ports in 42000-43000");
}

const handle = (): BoardHandle => ({ board: { fields: {} } }) as unknown as BoardHandle;
const session = (names: string[]): RigSession => ({ handles: new Map(names.map((n) => [n, handle()])), lockLost: new Promise<never>(() => {}), close: async () => {} });
const server = { url: "http://127.0.0.1:1" } as OtaServer;

describe("startBoardProxies", () => {
  it("gives each board the next free port of the range on the bench address, and says so when the range is exhausted", async () => {
    const first = await rangeWithFirstBusy();
    const s = session(["a", "b"]);
    const bench = { address: "127.0.0.1", how: "test", summary: "test", isolatedOnTheirVeth: false, ports: { first, last: first + 2 } };
    await startBoardProxies(s, server, bench, new EventBus(), proxies);
    expect(s.handles.get("a")!.board.fields.server_url).toBe(`http://127.0.0.1:${first + 1}`);
    expect(s.handles.get("b")!.board.fields.server_url).toBe(`http://127.0.0.1:${first + 2}`);

    const more = new Map<string, NetworkProxy>();
    const third = startBoardProxies(session(["c"]), server, bench, new EventBus(), more);
    await expect(third).rejects.toThrow(`network.ports ${first}-${first + 2} is exhausted on 127.0.0.1: this run holds 0 of its ports and 3 are in use by other programs`);
  });
});
