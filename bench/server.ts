// `bench server`: the reference OTA server under load. It runs as a child process (as the
// harness's process mode runs it: `node --import tsx server/main.ts`), so the load client and
// the server do not share an event loop; on 127.0.0.1:0 with a temp data dir, its per-request
// JSON log going to a file. Then: a firmware, allow all, an image of ~1 MiB and one of ~64 MiB;
// check req/s for N concurrent keep-alive clients; MB/s for N concurrent full downloads; and the
// server's peak RSS (VmHWM) while downloading each image size.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BackendClient, type FirmwareCredentials } from "../harness/ota/backend-client.ts";
import {
  fmtInt,
  fmtMiB,
  fmtMs,
  heading,
  note,
  numberList,
  numberOption,
  procCpuMs,
  procStatusBytes,
  ROOT,
  sampleRss,
  stopChild,
  table,
  tempDir,
  verdict,
  type Benchmark,
} from "./lib/common.ts";
import { pickClient, runDownloads, runLoad, type ClientKind, type LoadRequest } from "./lib/http-load.ts";
import { findNginx, NGINX_INSTALL, startNginx } from "./lib/nginx.ts";

const CHECK_TARGET_RPS = 10_000;
const CHECK_NGINX_RATIO = 0.35;
const DOWNLOAD_NGINX_RATIO = 0.9;
const DOWNLOAD_TARGET_MBPS = 1000;
const MiB = 1024 ** 2;

export const serverBench: Benchmark = {
  name: "server",
  summary: "reference server: check req/s, download MB/s and peak RSS for N concurrent clients, beside nginx on the same routes (targets: ≥ 10,000 req/s, ≥ 1 GB/s, flat memory; check ≥ 0.35× nginx, 1 MiB download ≥ 0.9×)",
  optionsHelp: [
    "--clients 1,8,32,64   concurrent clients",
    "--duration 3          seconds per check run and per download run",
    "--big 64              size of the big image in MiB",
    "--client auto         load client for check: auto (wrk, else undici, else node), node, undici, wrk",
  ],
  async run(ctx) {
    const clients = numberList(ctx, "clients", [1, 8, 32, 64]).map((n) => Math.min(1024, Math.round(n)));
    const durationMs = numberOption(ctx, "duration", 3, 60) * 1000;
    const bigMiB = numberOption(ctx, "big", 64, 1024);
    const kind = await pickClient(ctx.options.get("client"));
    const tmp = tempDir(ctx, "server");
    let server: StartedServer | undefined;
    try {
      heading("server: reference OTA server as a child process on 127.0.0.1");
      const small = join(tmp.path, "image-1MiB.bin");
      const big = join(tmp.path, `image-${bigMiB}MiB.bin`);
      writeRandomFile(small, MiB);
      writeRandomFile(big, Math.round(bigMiB * MiB));

      server = await startServerChild(join(tmp.path, "data"), join(tmp.path, "server.log"));
      note(`server pid ${server.pid} at ${server.url} (per-request log lines to a file); idle RSS ${fmtMiB(procStatusBytes(server.pid, "VmRSS") ?? 0)}`);
      const api = new BackendClient({ baseUrl: server.url, timeoutMs: 120_000 });
      const fw = await api.create();
      await api.allow(fw, "all");
      let t = performance.now();
      const smallHash = await api.upload(fw, small);
      const smallUploadMs = performance.now() - t;
      t = performance.now();
      const bigHash = await api.upload(fw, big);
      const bigUploadMs = performance.now() - t;
      note(`uploads: 1 MiB in ${fmtMs(smallUploadMs)}, ${bigMiB} MiB in ${fmtMs(bigUploadMs)} (${mbps(bigMiB * MiB, bigUploadMs).toFixed(0)} MB/s)`);

      // ---- check ----
      const check = checkRequest(server.url, fw, "0".repeat(64));
      note(`\ncheck: POST /v1/check/<hash>, each connection its own device id, answer 200 {hash} (update available); client: ${clientName(kind)}; ${durationMs / 1000} s per run`);
      await runLoad(kind, check, 8, 1000, tmp.path); // warm-up (JIT, statement cache, device rows)
      const checkRows: string[][] = [];
      for (const n of clients) {
        const cpu0 = procCpuMs(server.pid);
        const r = await runLoad(kind, check, n, durationMs, tmp.path);
        const cpu1 = procCpuMs(server.pid);
        const rps = (r.requests / r.elapsedMs) * 1000;
        const bad = [...r.badStatus.values()].reduce((s, v) => s + v, 0);
        checkRows.push([
          String(n),
          fmtInt(rps),
          r.p50Ms.toFixed(2),
          r.p99Ms.toFixed(2),
          cpu0 !== undefined && cpu1 !== undefined ? `${Math.round(((cpu1 - cpu0) / r.elapsedMs) * 100)}%` : "-",
          r.clientCpuMs !== undefined ? `${Math.round((r.clientCpuMs / r.elapsedMs) * 100)}%` : "-",
          String(r.errors + bad),
          `≥ ${fmtInt(CHECK_TARGET_RPS)}`,
          verdict(rps >= CHECK_TARGET_RPS && r.errors + bad === 0),
        ]);
      }
      table(["clients", "req/s", "p50 ms", "p99 ms", "server CPU", "client CPU", "errors", "target", "verdict"], checkRows);

      // ---- downloads + memory ----
      const hardLimitMs = Math.max(60_000, durationMs * 10);
      const dlClient = kind === "wrk" ? "wrk" : "node";
      note(
        `\ndownload: GET /v1/download/<hash>, N clients each downloading the whole image again and again for ${durationMs / 1000} s, streamed and discarded; ` +
          (dlClient === "wrk"
            ? "client: wrk (2 threads; runs at least N × size / 500 MB/s; a download still running at the end counts in MB/s, not in downloads)"
            : "client: node:http (each client downloads at least once)"),
      );
      note("each run on a freshly started server (same data dir), so its peak RSS (VmHWM) belongs to that run alone");
      const dlRows: string[][] = [];

      const peakBy = new Map<string, { peak: number; idle: number }>();
      let restarts = 0;
      for (const [label, hash, size] of [
        ["1 MiB", smallHash, MiB],
        [`${bigMiB} MiB`, bigHash, Math.round(bigMiB * MiB)],
      ] as const) {
        for (const n of clients) {
          await server.stop();
          server = undefined;
          server = await startServerChild(join(tmp.path, "data"), join(tmp.path, `server-${++restarts}.log`));
          await sleep(300);
          const req = downloadRequest(server.url, fw, hash);
          const before = procStatusBytes(server.pid, "VmRSS") ?? 0;
          const sampler = sampleRss(server.pid);
          const cpu0 = procCpuMs(server.pid);
          const own0 = process.cpuUsage();
          // wrk stops at its duration whatever is in flight: give it time for every client to finish
          // at least one full download at 500 MB/s (bounded by the hard limit).
          const runMs = dlClient === "wrk" ? Math.min(hardLimitMs / 2, Math.max(durationMs, ((n * size) / 500e6) * 1000)) : durationMs;
          const r = await runDownloads(dlClient, req, n, runMs, hardLimitMs, tmp.path);
          const own = process.cpuUsage(own0);
          const cpu1 = procCpuMs(server.pid);
          const sampled = sampler.stop();
          const hwm = procStatusBytes(server.pid, "VmHWM");
          const peak = hwm ?? sampled;
          peakBy.set(`${label}/${n}`, { peak, idle: before });
          const rate = mbps(r.bytes, r.elapsedMs);
          dlRows.push([
            label,
            String(n),
            String(r.downloads),
            String(r.incomplete),
            fmtMs(r.elapsedMs),
            rate.toFixed(0),
            cpu0 !== undefined && cpu1 !== undefined ? `${Math.round(((cpu1 - cpu0) / r.elapsedMs) * 100)}%` : "-",
            dlClient === "node" ? `${Math.round(((own.user + own.system) / 1000 / r.elapsedMs) * 100)}%` : "-",
            fmtMiB(before),
            `${fmtMiB(peak)}${hwm === undefined ? " (sampled)" : ""}`,
            `+${fmtMiB(peak - before)}`,
            size >= 16 * MiB ? `≥ ${DOWNLOAD_TARGET_MBPS}` : "",
            size >= 16 * MiB ? verdict(rate >= DOWNLOAD_TARGET_MBPS && r.incomplete === 0) : "",
          ]);
        }
      }
      table(["image", "clients", "downloads", "incomplete", "elapsed", "MB/s", "server CPU", "client CPU", "idle RSS", "peak RSS", "growth", "target", "verdict"], dlRows);

      note(`\nmemory: peak RSS of the server while downloading the ${bigMiB} MiB image vs the 1 MiB one (design: flat whatever the image size)`);
      const memRows = clients.map((n) => {
        const a = peakBy.get(`1 MiB/${n}`) ?? { peak: 0, idle: 0 };
        const b = peakBy.get(`${bigMiB} MiB/${n}`) ?? { peak: 0, idle: 0 };
        const diff = b.peak - a.peak;
        return [
          String(n),
          fmtMiB(a.peak),
          fmtMiB(b.peak),
          `${diff >= 0 ? "+" : ""}${(diff / MiB).toFixed(1)} MiB`,
          `${(b.peak / a.peak).toFixed(2)}×`,
          `${((b.peak - b.idle) / MiB / n).toFixed(2)} MiB`,
        ];
      });
      table(["clients", "peak RSS, 1 MiB", `peak RSS, ${bigMiB} MiB`, "difference", "ratio", `growth per client, ${bigMiB} MiB`], memRows);
      note("(peak RSS = VmHWM of a server started for that run alone; growth = peak − RSS once started and idle)");

      await server.stop();
      server = undefined;
      await besideNginx({ kind, dlClient, clients, durationMs, hardLimitMs, tmp: tmp.path, small, smallHash, fw });
    } finally {
      if (server) await server.stop();
      tmp.cleanup();
    }
  },
};

interface NginxComparison {
  kind: ClientKind;
  dlClient: "node" | "wrk";
  clients: number[];
  durationMs: number;
  hardLimitMs: number;
  tmp: string;
  small: string;
  smallHash: string;
  fw: FirmwareCredentials;
}

/**
 * The same loads against nginx serving the same routes statically (return 204 for the check,
 * sendfile for the 1 MiB download), run right after otarig's on the same machine: the ratios
 * say how far the server is from what the machine can serve at all.
 */
async function besideNginx(c: NginxComparison): Promise<void> {
  const binary = findNginx();
  if (!binary) {
    note(`\nbeside nginx: skipped, nginx is not installed (${NGINX_INSTALL})`);
    return;
  }
  note(
    `\nbeside nginx (${binary}, 1 worker process, access log off): the same clients and requests, each figure of otarig ` +
      "taken right before nginx's, so both see the same load on the machine",
  );
  const nginx = await startNginx(binary, join(c.tmp, "nginx"), 41000 + (process.pid % 90), { [c.smallHash]: c.small });
  const ours = await startServerChild(join(c.tmp, "data"), join(c.tmp, "server-nginx-pair.log"));
  try {
    await runLoad(c.kind, checkRequest(ours.url, c.fw, "0".repeat(64)), 8, 1000, c.tmp); // warm-up, as above
    const rows: string[][] = [];
    for (const n of c.clients) {
      const rps = async (url: string) => {
        const r = await runLoad(c.kind, checkRequest(url, c.fw, "0".repeat(64)), n, c.durationMs, c.tmp);
        return (r.requests / r.elapsedMs) * 1000;
      };
      const rate = async (url: string) => {
        const r = await runDownloads(c.dlClient, downloadRequest(url, c.fw, c.smallHash), n, c.durationMs, c.hardLimitMs, c.tmp);
        return mbps(r.bytes, r.elapsedMs);
      };
      const [oursRps, nginxRps] = [await rps(ours.url), await rps(nginx.url)];
      const [oursDl, nginxDl] = [await rate(ours.url), await rate(nginx.url)];
      rows.push([
        String(n),
        `${fmtInt(oursRps)} / ${fmtInt(nginxRps)}`,
        `${(oursRps / nginxRps).toFixed(2)}×`,
        verdict(oursRps / nginxRps >= CHECK_NGINX_RATIO),
        `${oursDl.toFixed(0)} / ${nginxDl.toFixed(0)}`,
        `${(oursDl / nginxDl).toFixed(2)}×`,
        verdict(oursDl / nginxDl >= DOWNLOAD_NGINX_RATIO),
      ]);
    }
    table(
      ["clients", "check req/s otarig / nginx", `ratio (≥ ${CHECK_NGINX_RATIO}×)`, "verdict", "1 MiB download MB/s otarig / nginx", `ratio (≥ ${DOWNLOAD_NGINX_RATIO}×)`, "verdict"],
      rows,
    );
  } finally {
    await ours.stop();
    await nginx.stop();
  }
}

function clientName(kind: string): string {
  return kind === "wrk" ? "wrk (1 thread)" : kind === "undici" ? "undici Pool (node_modules)" : "node:http keep-alive Agent";
}

function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

function checkRequest(origin: string, fw: FirmwareCredentials, currentHash: string): LoadRequest {
  return {
    origin,
    method: "POST",
    path: `/v1/check/${currentHash}`,
    headers: (i) => ({ "x-ota-firmware-id": String(fw.id), "x-ota-device-id": `BENCH-${String(i).padStart(4, "0")}` }),
  };
}

function downloadRequest(origin: string, fw: FirmwareCredentials, hash: string): LoadRequest {
  return {
    origin,
    method: "GET",
    path: `/v1/download/${hash}`,
    headers: (i) => ({ "x-ota-firmware-id": String(fw.id), "x-ota-device-id": `BENCH-${String(i).padStart(4, "0")}` }),
  };
}

/** Random bytes (incompressible, like a firmware image), written 1 MiB at a time. */
function writeRandomFile(path: string, size: number): void {
  const fd = openSync(path, "w");
  try {
    for (let left = size; left > 0; left -= MiB) writeSync(fd, randomBytes(Math.min(MiB, left)));
  } finally {
    closeSync(fd);
  }
}

interface StartedServer {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** `node --import tsx server/main.ts` on 127.0.0.1:0; its stdout (one JSON line per request) goes to `logFile`. */
async function startServerChild(dataDir: string, logFile: string): Promise<StartedServer> {
  const fd = openSync(logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "server/main.ts")], {
      cwd: ROOT,
      env: { ...process.env, BACKEND_HOST: "127.0.0.1", BACKEND_PORT: "0", OTA_DATA_DIR: dataDir, OTA_API_KEYS: "" },
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const stop = () => stopChild(child);
  const deadline = performance.now() + 20_000;
  for (;;) {
    const text = readFileSync(logFile, "utf8");
    const line = text.split("\n").find((l) => l.includes('"listening"'));
    if (line) {
      const url = (JSON.parse(line) as { url: string }).url;
      return { pid: child.pid!, url, stop };
    }
    if (child.exitCode !== null || child.signalCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(`the server did not report "listening" (log: ${text.trim().slice(-500) || "empty"})`);
    }
    await sleep(20);
  }
}
