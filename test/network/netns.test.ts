// Isolated networks for virtual boards, on real Linux network namespaces and veth pairs (root).
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { createIsolatedNetwork, removeStaleNetworks, type IsolatedNetwork } from "../../harness/board/network/netns.ts";
import { NetworkProxy } from "../../harness/faults/network-proxy.ts";
import { ROOT } from "../cli/helpers.ts";
import { leftBehind, linkExists, namespaceExists } from "./helpers.ts";

const made: IsolatedNetwork[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const n of made.splice(0)) await n.remove();
  for (const s of servers.splice(0)) s.close();
});

async function listen(host: string): Promise<number> {
  // The client exits at once: a reset on our side is expected, not an error.
  const server = createServer((socket) => socket.on("error", () => {}).end("hello from the host\n"));
  servers.push(server);
  await new Promise<void>((ok, fail) => server.once("error", fail).listen({ host, port: 0 }, ok));
  return (server.address() as { port: number }).port;
}

/** Runs a TCP connect from inside the namespace with node; resolves to "connected" or the error code. */
async function connectFrom(net: IsolatedNetwork, host: string, port: number): Promise<string> {
  const script = `const s=require("net").connect(${port},${JSON.stringify(host)});s.setTimeout(3000,()=>{console.log("TIMEOUT");process.exit()});s.on("connect",()=>{console.log("connected");process.exit()});s.on("error",(e)=>{console.log(e.code);process.exit()})`;
  const r = await execa(net.exec[0]!, [...net.exec.slice(1), process.execPath, "-e", script], { reject: false, timeout: 10_000 });
  return r.stdout.trim() || `failed: ${r.stderr}`;
}

describe("isolated network (real namespace + veth)", () => {
  it("a program in the namespace cannot reach the host's 127.0.0.1, but reaches the host side of its veth", async () => {
    const net = await createIsolatedNetwork();
    made.push(net);
    expect(net.namespace).toMatch(/^otarig-\d+$/);
    expect(net.hostInterface.length).toBeLessThanOrEqual(15);
    expect(net.hostAddress).toMatch(/^198\.(18|19)\.\d+\.\d+$/);
    const loopbackPort = await listen("127.0.0.1");
    const benchPort = await listen(net.hostAddress);
    expect(await connectFrom(net, "127.0.0.1", loopbackPort)).toBe("ECONNREFUSED");
    expect(await connectFrom(net, net.hostAddress, benchPort)).toBe("connected");
  });

  it("once its proxy listens, a board reaches that and nothing else: not a server on the host's 0.0.0.0", async () => {
    const net = await createIsolatedNetwork();
    made.push(net);
    const serverPort = await listen("0.0.0.0");
    const otherPort = await listen(net.hostAddress);
    // Without egress rules a server on all addresses is in reach through the veth.
    expect(await connectFrom(net, net.hostAddress, serverPort)).toBe("connected");
    const proxy = await NetworkProxy.start({ target: `http://127.0.0.1:${serverPort}`, listenHost: net.hostAddress });
    try {
      await net.reachOnly(net.hostAddress, proxy.port);
      expect(await connectFrom(net, net.hostAddress, proxy.port)).toBe("connected");
      expect(await connectFrom(net, net.hostAddress, serverPort)).toBe("ECONNREFUSED");
      expect(await connectFrom(net, net.hostAddress, otherPort)).toBe("ECONNREFUSED");
      // and the proxy does carry the server's answer
      const script = `const s=require("net").connect(${proxy.port},${JSON.stringify(net.hostAddress)});s.setEncoding("utf8");s.setTimeout(3000,()=>{console.log("TIMEOUT");process.exit()});s.on("data",(d)=>{console.log(d.trim());process.exit()});s.on("error",(e)=>{console.log(e.code);process.exit()})`;
      const r = await execa(net.exec[0]!, [...net.exec.slice(1), process.execPath, "-e", script], { reject: false, timeout: 10_000 });
      expect(r.stdout.trim()).toBe("hello from the host");
    } finally {
      await proxy.close();
    }
  });

  it("two networks get different subnets, and remove() leaves no namespace or veth", async () => {
    const [a, b] = await Promise.all([createIsolatedNetwork(), createIsolatedNetwork()]);
    made.push(a!, b!);
    expect(a!.hostAddress).not.toBe(b!.hostAddress);
    expect(await namespaceExists(a!.namespace)).toBe(true);
    await a!.remove();
    // (a concurrent run may take the freed name at once: it is then that run's, not left behind)
    expect(await leftBehind({ namespace: a!.namespace, pid: process.pid })).toBe(false);
    expect(await namespaceExists(b!.namespace)).toBe(true);
  });

  it("removes the namespace of a killed run at the next start, and never a live one's", async () => {
    const live = await createIsolatedNetwork();
    made.push(live);
    // A run that makes its network and is then killed (SIGKILL: no teardown at all).
    const child = execa(process.execPath, ["--import", "tsx", join(ROOT, "test/network/programs/make-netns.ts")], { cwd: ROOT, reject: false });
    const killedNs = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("the child never printed its namespace within 20s")), 20_000);
      child.stdout!.on("data", (d: Buffer) => {
        const m = /namespace (otarig-\d+)/.exec(d.toString());
        if (m) {
          clearTimeout(timer);
          ok(m[1]!);
        }
      });
    });
    child.kill("SIGKILL");
    await child;
    expect(await namespaceExists(killedNs)).toBe(true);
    // (a run starting meanwhile may have cleaned it first: either way it must be gone now)
    await removeStaleNetworks();
    expect(await leftBehind({ namespace: killedNs, pid: child.pid! })).toBe(false);
    expect(await namespaceExists(live.namespace)).toBe(true);
    expect(await linkExists(live.hostInterface)).toBe(true);
  });

  it("removes a namespace of ours that has no ownership file at all (left behind)", async () => {
    const orphan = "otarig-32767"; // the last block: no run here takes it
    await execa("ip", ["netns", "add", orphan]);
    try {
      await removeStaleNetworks();
      expect(await namespaceExists(orphan)).toBe(false);
    } finally {
      await execa("ip", ["netns", "del", orphan], { reject: false });
    }
  });
});
