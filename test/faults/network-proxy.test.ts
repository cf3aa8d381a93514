// The network fault injector over real sockets: a node:http server serving 1 MiB (with Range),
// real fetch and node:http clients going through the proxy on 127.0.0.1.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ScenarioError } from "../../harness/core/errors.ts";
import { NetworkProxy, parseTarget } from "../../harness/faults/network-proxy.ts";

const SIZE = 1024 * 1024;
const KiB = 1024;
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

interface Origin {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** A plain HTTP server serving `body` at any path, with single-range support. */
async function startOrigin(body: Buffer): Promise<Origin> {
  const server = http.createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
      if (start > end) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${body.length}`, "content-length": end - start + 1 });
      res.end(body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Got {
  status?: number;
  body: Buffer;
  error?: Error;
  ms: number;
}

/** GET with node:http, keeping whatever arrived before an error. Never rejects; gives up after `timeoutMs`. */
function get(url: string, opts: { headers?: http.OutgoingHttpHeaders; agent?: http.Agent | false; timeoutMs?: number } = {}): Promise<Got> {
  const t0 = performance.now();
  return new Promise<Got>((resolve) => {
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const got: Got = { body: Buffer.concat(chunks), ms: performance.now() - t0 };
      if (status !== undefined) got.status = status;
      if (error) got.error = error;
      resolve(got);
    };
    const req = http.get(url, { headers: opts.headers ?? {}, agent: opts.agent ?? false }, (res) => {
      status = res.statusCode;
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => finish(res.complete ? undefined : new Error("response incomplete")));
      res.on("error", (err) => finish(err));
      res.on("aborted", () => finish(new Error("response aborted")));
    });
    req.on("error", (err) => finish(err));
    const timer = setTimeout(() => {
      finish(new Error(`test timeout after ${opts.timeoutMs ?? 10_000} ms`));
      req.destroy();
    }, opts.timeoutMs ?? 10_000);
  });
}

/** Resolves with the first event matching `re`; rejects after `timeoutMs`. */
function eventWaiter(events: string[], listeners: Array<(m: string) => void>) {
  return (re: RegExp, timeoutMs = 10_000): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const seen = events.find((e) => re.test(e));
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no event ${re} within ${timeoutMs} ms; got: ${events.join(" | ")}`)), timeoutMs);
      listeners.push((m) => {
        if (re.test(m)) {
          clearTimeout(timer);
          resolve(m);
        }
      });
    });
}

describe("NetworkProxy", () => {
  const original = randomBytes(SIZE);
  let origin: Origin;
  let proxy: NetworkProxy | undefined;
  let events: string[] = [];
  let listeners: Array<(m: string) => void> = [];
  const waitEvent = (re: RegExp, timeoutMs?: number) => eventWaiter(events, listeners)(re, timeoutMs);

  async function startProxy(target = origin.url): Promise<NetworkProxy> {
    events = [];
    listeners = [];
    proxy = await NetworkProxy.start({
      target,
      onEvent: (m) => {
        events.push(m);
        for (const l of listeners) l(m);
      },
    });
    return proxy;
  }

  beforeAll(async () => {
    origin = await startOrigin(original);
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(() => origin.close());

  it("passes bytes through untouched (fetch, keep-alive, Range)", async () => {
    const p = await startProxy();
    expect(p.url).toBe(`http://127.0.0.1:${p.port}`);
    const r = await fetch(`${p.url}/fw.bin`, { signal: AbortSignal.timeout(10_000) });
    expect(r.status).toBe(200);
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.length).toBe(SIZE);
    expect(sha256(body)).toBe(sha256(original));
    const part = await fetch(`${p.url}/fw.bin`, { headers: { range: "bytes=1000-1999" }, signal: AbortSignal.timeout(10_000) });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(original.subarray(1000, 2000))).toBe(true);
    const s = p.stats();
    expect(s.bytesToBoard).toBeGreaterThan(SIZE + 1000);
    expect(s.bytesToServer).toBeGreaterThan(0);
    expect(s.connections).toBeGreaterThanOrEqual(1);
    expect(s.faultsApplied).toBe(0);
  });

  it("cut after 100 KiB fails the download partway; a Range request resumes it to the exact original", async () => {
    const p = await startProxy();
    p.inject({ mode: "cut", afterBytes: 100 * KiB });
    const first = await get(`${p.url}/fw.bin`);
    expect(first.status).toBe(200);
    expect(first.error).toBeDefined();
    expect(first.body.length).toBeLessThan(100 * KiB);
    expect(first.body.equals(original.subarray(0, first.body.length))).toBe(true);
    expect(await waitEvent(/^cut 1 connection\(s\) after 102400 bytes/)).toBeTruthy();
    expect(p.stats().bytesToBoard).toBe(100 * KiB);
    expect(p.stats().faultsApplied).toBe(1);

    // One-shot: the resume goes through.
    const rest = await get(`${p.url}/fw.bin`, { headers: { range: `bytes=${first.body.length}-` } });
    expect(rest.error).toBeUndefined();
    expect(rest.status).toBe(206);
    const whole = Buffer.concat([first.body, rest.body]);
    expect(whole.length).toBe(SIZE);
    expect(sha256(whole)).toBe(sha256(original));
  });

  it("cut with a duration refuses connections during the window and serves after it", async () => {
    const p = await startProxy();
    p.inject({ mode: "cut", durationMs: 800 });
    await waitEvent(/^cut 0 connection\(s\)/);
    const during = await get(`${p.url}/fw.bin`);
    expect(during.error).toBeDefined();
    expect(during.body.length).toBe(0);
    expect(p.stats().refused).toBeGreaterThanOrEqual(1);
    await waitEvent(/cut window over/);
    const after = await get(`${p.url}/fw.bin`);
    expect(after.error).toBeUndefined();
    expect(sha256(after.body)).toBe(sha256(original));
  });

  it("corrupt flips one byte of a full-length body once; the next download is intact", async () => {
    const p = await startProxy();
    p.inject({ mode: "corrupt" }); // default: byte 4096 of the raw stream, past the ~150-byte header
    const r = await fetch(`${p.url}/fw.bin`, { signal: AbortSignal.timeout(10_000) });
    expect(r.status).toBe(200);
    const bad = Buffer.from(await r.arrayBuffer());
    expect(bad.length).toBe(SIZE);
    expect(sha256(bad)).not.toBe(sha256(original));
    let differing = 0;
    for (let i = 0; i < SIZE; i++) if (bad[i] !== original[i]) differing++;
    expect(differing).toBe(1);
    expect(p.stats().faultsApplied).toBe(1);
    await waitEvent(/^corrupt: flipped byte 4096/);

    const again = await fetch(`${p.url}/fw.bin`, { signal: AbortSignal.timeout(10_000) });
    expect(sha256(Buffer.from(await again.arrayBuffer()))).toBe(sha256(original));
  });

  it("delay adds latency to each direction (lower bound only)", async () => {
    const p = await startProxy();
    p.inject({ mode: "delay", delayMs: 300 });
    const r = await get(`${p.url}/fw.bin`);
    expect(r.error).toBeUndefined();
    expect(sha256(r.body)).toBe(sha256(original));
    // The request waits 300 ms on its way up and the first response chunk 300 ms on its way down.
    expect(r.ms).toBeGreaterThanOrEqual(590);
    p.clear();
    const fast = await get(`${p.url}/fw.bin`);
    expect(sha256(fast.body)).toBe(sha256(original));
  });

  it("delay with a duration ends by itself", async () => {
    const p = await startProxy();
    p.inject({ mode: "delay", delayMs: 200, durationMs: 300 });
    await waitEvent(/^delay over/);
    const r = await get(`${p.url}/fw.bin`);
    expect(sha256(r.body)).toBe(sha256(original));
  });

  it("drop black-holes a download until the window ends, then the connection fails; service resumes", async () => {
    const p = await startProxy();
    p.inject({ mode: "drop", afterBytes: 64 * KiB, durationMs: 700 });
    const t0 = performance.now();
    const stalled = get(`${p.url}/fw.bin`);
    await waitEvent(/^drop: black-holing 1 connection\(s\) after 65536 bytes for 700 ms/);
    // A connection opened during the window is accepted but nothing comes back.
    const silent = get(`${p.url}/fw.bin`);
    const [a, b] = await Promise.all([stalled, silent]);
    const elapsed = performance.now() - t0;
    expect(a.status).toBe(200);
    expect(a.error).toBeDefined();
    expect(a.error?.message).not.toMatch(/test timeout/);
    expect(a.body.length).toBeLessThan(64 * KiB);
    expect(b.error).toBeDefined();
    expect(b.error?.message).not.toMatch(/test timeout/);
    expect(b.status).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(690);
    expect(await waitEvent(/^drop over after 700 ms: reset 2 held connection\(s\)/)).toBeTruthy();
    expect(p.stats().bytesToBoard).toBe(64 * KiB);

    const after = await get(`${p.url}/fw.bin`);
    expect(after.error).toBeUndefined();
    expect(sha256(after.body)).toBe(sha256(original));
  });

  it("drop without a duration lasts until clear()", async () => {
    const p = await startProxy();
    p.inject({ mode: "drop" });
    await waitEvent(/^drop: black-holing 0 connection\(s\) after 0 bytes until cleared/);
    const pending = get(`${p.url}/fw.bin`);
    // Wait until the proxy holds the connection, then clear.
    const deadline = Date.now() + 5000;
    while (p.stats().open < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(p.stats().open).toBe(1);
    p.clear();
    const r = await pending;
    expect(r.error).toBeDefined();
    expect(r.error?.message).not.toMatch(/test timeout/);
    const after = await get(`${p.url}/fw.bin`);
    expect(sha256(after.body)).toBe(sha256(original));
  });

  it("applies backpressure: a board that stops reading stalls the server, and nothing is lost", async () => {
    const big = randomBytes(32 * SIZE);
    const bigOrigin = await startOrigin(big);
    try {
      const p = await startProxy(bigOrigin.url);
      const got = await new Promise<{ body: Buffer; duringPause: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("test timeout")), 20_000);
        http
          .get(`${p.url}/big`, { agent: false }, (res) => {
            const chunks: Buffer[] = [];
            let duringPause = -1;
            res.on("data", (c: Buffer) => {
              chunks.push(c);
              if (duringPause >= 0) return;
              duringPause = 0;
              res.pause();
              setTimeout(() => {
                duringPause = p.stats().bytesToBoard;
                res.resume();
              }, 300);
            });
            res.on("end", () => {
              clearTimeout(timer);
              resolve({ body: Buffer.concat(chunks), duringPause });
            });
            res.on("error", reject);
          })
          .on("error", reject);
      });
      // While the board read nothing the proxy forwarded only what socket buffers hold, not all 32 MiB.
      expect(got.duringPause).toBeGreaterThan(0);
      expect(got.duringPause).toBeLessThan(big.length);
      expect(sha256(got.body)).toBe(sha256(big));
    } finally {
      await bigOrigin.close();
    }
  });

  it("setTarget sends new connections to the new server", async () => {
    const other = randomBytes(4096);
    const second = await startOrigin(other);
    try {
      const p = await startProxy();
      const before = await get(`${p.url}/x`);
      expect(sha256(before.body)).toBe(sha256(original));
      p.setTarget(`127.0.0.1:${(second.server.address() as net.AddressInfo).port}`);
      await waitEvent(/^target is now 127\.0\.0\.1:\d+$/);
      const after = await get(`${p.url}/x`);
      expect(after.body.equals(other)).toBe(true);
      // A target that is down: the board's connection is reset, and the proxy says why.
      await second.close();
      const down = await get(`${p.url}/x`);
      expect(down.error).toBeDefined();
      await waitEvent(/unreachable \(ECONNREFUSED\)/);
      p.setTarget(origin.url);
      expect(sha256((await get(`${p.url}/x`)).body)).toBe(sha256(original));
    } finally {
      await second.close();
    }
  });

  it("close leaves no open handles and refuses later connections", async () => {
    const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    // Sockets of earlier tests may still be closing: take the baseline once the count holds still.
    const settleBy = Date.now() + 3000;
    for (let last = -1; tcpHandles() !== last && Date.now() < settleBy; ) {
      last = tcpHandles();
      await new Promise((r) => setTimeout(r, 100));
    }
    const baseTcp = tcpHandles();
    const baseTimers = timers();
    const p = await startProxy();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const r = await get(`${p.url}/fw.bin`, { agent });
      expect(sha256(r.body)).toBe(sha256(original));
      p.inject({ mode: "delay", delayMs: 50, durationMs: 60_000 });
      p.inject({ mode: "cut", afterBytes: 10 * SIZE, durationMs: 60_000 });
      expect(p.stats().open).toBe(1); // the idle keep-alive connection
      expect(timers()).toBeGreaterThan(baseTimers); // the two fault windows
      expect(tcpHandles()).toBeGreaterThan(baseTcp);
      await p.close();
      expect(p.stats().open).toBe(0);
      const deadline = Date.now() + 5000;
      while ((tcpHandles() > baseTcp || timers() > baseTimers) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(tcpHandles()).toBeLessThanOrEqual(baseTcp);
      expect(timers()).toBeLessThanOrEqual(baseTimers);
      const refused = await get(`${p.url}/fw.bin`, { timeoutMs: 5000 });
      expect(refused.error?.message).toMatch(/ECONNREFUSED/);
      await p.close(); // idempotent
    } finally {
      agent.destroy();
    }
  });

  it("validates targets and faults as scenario errors", async () => {
    expect(parseTarget("http://127.0.0.1:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseTarget("http://localhost/")).toEqual({ host: "localhost", port: 80 });
    expect(parseTarget("10.0.0.5:9000")).toEqual({ host: "10.0.0.5", port: 9000 });
    expect(parseTarget("[::1]:9000")).toEqual({ host: "::1", port: 9000 });
    expect(() => parseTarget("nope")).toThrow(ScenarioError);
    expect(() => parseTarget("host:99999")).toThrow(ScenarioError);
    const p = await startProxy();
    expect(() => p.inject({ mode: "flap" as never })).toThrow(ScenarioError);
    expect(() => p.inject({ mode: "cut", afterBytes: -1 })).toThrow(ScenarioError);
    expect(() => p.inject({ mode: "drop", durationMs: 0 })).toThrow(ScenarioError);
    expect(() => p.setTarget("")).toThrow(ScenarioError);
  });
});
