// Load clients for the server benchmark: N concurrent keep-alive connections issuing one request
// after another until a deadline (bounded in time and in request count). Three engines:
//   node   node:http with a keep-alive Agent (always there)
//   undici undici's Pool, when the package can be imported from node_modules (faster client)
//   wrk    Debian's wrk, when on PATH (a C client: leaves the most CPU to the server)
import { spawn } from "node:child_process";
import { accessSync, constants, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { delimiter, join } from "node:path";
import { percentile } from "./common.ts";

export type ClientKind = "node" | "undici" | "wrk";

export interface LoadRequest {
  origin: string;
  method: string;
  path: string;
  /** headers for connection `i` (e.g. its own device id) */
  headers(i: number): Record<string, string>;
}

export interface LoadResult {
  client: ClientKind;
  requests: number;
  errors: number;
  /** status code → count (non-2xx only) */
  badStatus: Map<number, number>;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the client used (in-process clients only) */
  clientCpuMs: number | undefined;
}

/** Hard cap on requests per run, whatever the duration: the loop is bounded in count too. */
export const MAX_REQUESTS = 5_000_000;
/** Latency samples kept (every request up to this many, then none). */
const MAX_SAMPLES = 1_000_000;

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

interface UndiciPool {
  request(opts: { path: string; method: string; headers: Record<string, string> }): Promise<{
    statusCode: number;
    body: { dump(): Promise<void> };
  }>;
  close(): Promise<void>;
}
type UndiciModule = { Pool: new (origin: string, opts: { connections: number; pipelining: number }) => UndiciPool };

let undiciModule: UndiciModule | null | undefined;
/** undici from node_modules if it is there (a transitive dependency, so maybe not): never required. */
export async function loadUndici(): Promise<UndiciModule | undefined> {
  if (undiciModule === undefined) {
    const name = "undici"; // a variable: the type checker must not require the package
    try {
      undiciModule = (await import(name)) as UndiciModule;
    } catch {
      undiciModule = null;
    }
  }
  return undiciModule ?? undefined;
}

/** The best client available: wrk, then undici, then node:http. */
export async function pickClient(wanted: string | undefined): Promise<ClientKind> {
  if (wanted === "node") return "node";
  if (wanted === "undici") {
    if (!(await loadUndici())) throw new Error("--client undici: undici cannot be imported from node_modules");
    return "undici";
  }
  if (wanted === "wrk") {
    if (!findOnPath("wrk")) throw new Error("--client wrk: wrk is not on PATH (sudo apt-get install wrk)");
    return "wrk";
  }
  if (wanted !== undefined && wanted !== "auto") throw new Error(`--client: expected auto, node, undici or wrk, got "${wanted}"`);
  if (findOnPath("wrk")) return "wrk";
  if (await loadUndici()) return "undici";
  return "node";
}

export async function runLoad(client: ClientKind, req: LoadRequest, connections: number, durationMs: number, tmp: string): Promise<LoadResult> {
  if (client === "wrk") return runWrk(req, connections, durationMs, tmp);
  const latencies = new Float64Array(MAX_SAMPLES);
  let samples = 0;
  let requests = 0;
  let errors = 0;
  const badStatus = new Map<number, number>();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  const record = (t0: number, status: number) => {
    if (status >= 200 && status < 300) requests++;
    else badStatus.set(status, (badStatus.get(status) ?? 0) + 1);
    if (samples < MAX_SAMPLES) latencies[samples++] = performance.now() - t0;
  };
  const more = () => performance.now() < deadline && requests + errors < MAX_REQUESTS;

  if (client === "undici") {
    const undici = (await loadUndici())!;
    const pool = new undici.Pool(req.origin, { connections, pipelining: 1 });
    const worker = async (i: number) => {
      const headers = req.headers(i);
      while (more()) {
        const t0 = performance.now();
        try {
          const res = await pool.request({ path: req.path, method: req.method, headers });
          await res.body.dump();
          record(t0, res.statusCode);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));
    const elapsedMs = performance.now() - started;
    await pool.close();
    return finish(elapsedMs);
  }

  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const [host, port] = hostPort(req.origin);
  const one = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const r = request({ agent, host, port, method: req.method, path: req.path, headers }, (res) => {
        res.on("error", reject);
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.resume();
      });
      r.on("error", reject);
      r.end();
    });
  const worker = async (i: number) => {
    const headers = req.headers(i);
    while (more()) {
      const t0 = performance.now();
      try {
        record(t0, await one(headers));
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return finish(elapsedMs);

  function finish(elapsedMs: number): LoadResult {
    const cpu = process.cpuUsage(cpu0);
    const sorted = Array.from(latencies.subarray(0, samples)).sort((a, b) => a - b);
    return {
      client,
      requests,
      errors,
      badStatus,
      elapsedMs,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      clientCpuMs: (cpu.user + cpu.system) / 1000,
    };
  }
}

function hostPort(origin: string): [string, number] {
  const u = new URL(origin);
  return [u.hostname, Number(u.port || 80)];
}

/** wrk with a Lua script for method and headers; every connection sends the headers of connection 0. */
async function runWrk(
  req: LoadRequest,
  connections: number,
  durationMs: number,
  tmp: string,
  timeoutS = 10,
  maxThreads = 1,
): Promise<LoadResult & { bytesRead: number }> {
  const script = join(tmp, "wrk.lua");
  const headers = req.headers(0);
  const lua = [
    `wrk.method = ${JSON.stringify(req.method)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
    `wrk.path = ${JSON.stringify(req.path)}`,
    "",
  ].join("\n");
  writeFileSync(script, lua);
  const seconds = Math.max(1, Math.round(durationMs / 1000));
  const threads = Math.max(1, Math.min(maxThreads, connections));
  const args = ["-t", String(threads), "-c", String(connections), "-d", `${seconds}s`, "--timeout", `${timeoutS}s`, "--latency", "-s", script, `${req.origin}${req.path}`];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(findOnPath("wrk")!, args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (text += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => (text += t));
    const timer = setTimeout(() => child.kill("SIGKILL"), durationMs + timeoutS * 1000 + 30_000);
    child.once("error", reject);
    child.once("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m?.[1] !== undefined ? Number(m[1]) : NaN;
  };
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    if (!m?.[1] || !m[2]) return NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const total = num(/(\d+) requests in/);
  const elapsed = ms(/requests in ([\d.]+)(us|ms|s)/);
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = socketErrors ? socketErrors.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
  if (!Number.isFinite(total)) throw new Error(`wrk output not understood:\n${out}`);
  const badStatus = new Map<number, number>();
  if (Number.isFinite(non2xx) && non2xx > 0) badStatus.set(0, non2xx);
  const read = /requests in [\d.]+\w+, ([\d.]+)([KMGT]?B) read/.exec(out);
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[read?.[2] ?? "B"] ?? 1;
  return {
    bytesRead: read?.[1] ? Number(read[1]) * unit : NaN,
    client: "wrk",
    requests: total - (Number.isFinite(non2xx) ? non2xx : 0),
    errors,
    badStatus,
    elapsedMs: elapsed,
    p50Ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99Ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
    clientCpuMs: undefined,
  };
}

export interface DownloadResult {
  downloads: number;
  /** downloads that ended short of their Content-Length, or failed */
  incomplete: number;
  bytes: number;
  elapsedMs: number;
}

/**
 * N clients each downloading the whole file again and again (streamed, discarded) until
 * `durationMs` has passed, at least once each; everything is cut at `hardLimitMs`.
 * With wrk: N connections for the duration (a download in flight at the end is not counted
 * in `downloads`, its bytes are in `bytes`; wrk's byte count is rounded to its unit).
 */
export async function runDownloads(
  client: "node" | "wrk",
  req: LoadRequest,
  connections: number,
  durationMs: number,
  hardLimitMs: number,
  tmp: string,
): Promise<DownloadResult> {
  if (client === "wrk") {
    // Two threads for downloads: one wrk thread tops out near 1 GB/s of reading.
    const r = await runWrk(req, connections, durationMs, tmp, Math.ceil(hardLimitMs / 1000), 2);
    return { downloads: r.requests, incomplete: r.errors + [...r.badStatus.values()].reduce((a, b) => a + b, 0), bytes: r.bytesRead, elapsedMs: r.elapsedMs };
  }
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const [host, port] = hostPort(req.origin);
  let downloads = 0;
  let incomplete = 0;
  let bytes = 0;
  let cut = false;
  const live = new Set<() => void>();
  const started = performance.now();
  const hard = setTimeout(() => {
    cut = true;
    for (const abort of live) abort();
  }, hardLimitMs);
  const one = (headers: Record<string, string>) =>
    new Promise<void>((resolve) => {
      let got = 0;
      let settled = false;
      const settle = (complete: boolean) => {
        if (settled) return;
        settled = true;
        if (complete) downloads++;
        else incomplete++;
        resolve();
      };
      const r = request({ agent, host, port, method: req.method, path: req.path, headers }, (res) => {
        const expected = Number(res.headers["content-length"] ?? NaN);
        res.on("data", (chunk: Buffer) => {
          got += chunk.length;
          bytes += chunk.length;
        });
        res.on("end", () => settle(res.statusCode === 200 && got === expected));
        res.on("error", () => settle(false));
      });
      const abort = () => r.destroy(new Error("hard time limit"));
      live.add(abort);
      r.on("close", () => live.delete(abort));
      r.on("error", () => settle(false));
      r.end();
    });
  const worker = async (i: number) => {
    const headers = req.headers(i);
    let n = 0;
    while (!cut && (n === 0 || performance.now() - started < durationMs) && n < 100_000) {
      await one(headers);
      n++;
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));
  const elapsedMs = performance.now() - started;
  clearTimeout(hard);
  agent.destroy();
  return { downloads, incomplete, bytes, elapsedMs };
}
