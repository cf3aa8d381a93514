// `bench fleet-sim`: how many simulated devices one runner rolls a release out to. N devices
// (default 10,000) with a 1 MiB image against the reference server in a container, all in this
// process (one keep-alive pool); figures: devices updated, the simulator's and the server's peak
// RSS, the update check's p99 and the wall time from the fleet's start until every device settled.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import type { FleetSummary } from "../harness/fleet/metrics.ts";
import { ensureModel, rollOut } from "../harness/fleet/register.ts";
import { fleetSpec, sliceSerials } from "../harness/fleet/spec.ts";
import { VendorClient } from "../harness/ota/vendor-client.ts";
import { startContainerServer } from "../harness/server/container-server.ts";
import { startProcessServer } from "../harness/server/process-server.ts";
import type { OtaServer } from "../harness/server/types.ts";
import { fmtInt, fmtMiB, heading, note, numberOption, procStatusBytes, ROOT, table, tempDir, UsageError, verdict, type Benchmark } from "./lib/common.ts";
import type { SimJob } from "./lib/fleet-sim-child.ts";

const MiB = 1024 ** 2;
const SIM_TARGET_MiB = 400;
const SETTLED = new Set(["updated", "failed", "rejected", "reverted"]);

export interface FleetSimFigures {
  devices: number;
  updated: number;
  sim_peak_rss_mb: number;
  server_peak_rss_mb: number;
  check_p99_ms: number;
  wall_s: number;
}

export const fleetSimBench: Benchmark = {
  name: "fleet-sim",
  summary: "N simulated devices (default 10,000) roll a 1 MiB release out from the container server (targets: all updated, simulator ≤ 400 MiB, no error)",
  optionsHelp: [
    "--devices 10000     simulated devices",
    "--connections 128   keep-alive connections the fleet shares",
    "--server container  where the reference server runs: container, or process (no container engine, no NAT)",
    "--json FILE         also write { devices, updated, sim_peak_rss_mb, server_peak_rss_mb, check_p99_ms, wall_s } there",
  ],
  async run(ctx) {
    const devices = Math.round(numberOption(ctx, "devices", 10_000, 50_000));
    const connections = Math.round(numberOption(ctx, "connections", 128, 4096));
    const jsonFile = ctx.options.get("json");
    const tmp = tempDir(ctx, "fleet-sim");
    let server: OtaServer | undefined;
    try {
      heading(`fleet-sim: ${fmtInt(devices)} simulated devices, 1 MiB image, reference server (${ctx.options.get("server") ?? "container"})`);
      const mode = ctx.options.get("server") ?? "container";
      if (mode !== "container" && mode !== "process") throw new UsageError(`--server: container or process, not "${mode}"`);
      const started = { runId: tmp.path, dataDir: join(tmp.path, "data"), onLog: () => {} };
      server = mode === "container" ? await startContainerServer(started) : await startProcessServer(started);
      const serverPid = server.containerId ? await containerPid(server.containerId) : processPid(server);
      const key = server.credentials.apiKey!;
      const vendor = new VendorClient({ baseUrl: server.url, keyId: key.keyId, secret: key.secret, timeoutMs: 60_000 });
      const image = join(tmp.path, "image-1MiB.bin");
      writeFileSync(image, randomBytes(MiB));
      const artifact = await vendor.uploadArtifact(image);
      const firmwareId = await ensureModel(vendor, "fleet");

      const spec = fleetSpec({
        count: devices,
        connections,
        timing: { intervalMs: 10_000, chunkBytes: 256 * 1024, rateBytesPerS: MiB, installMs: 200, rebootMs: 200, confirmMs: 100 },
      });
      // Registered and deployed first: the figures are the rollout's, not activations refused early.
      await rollOut(vendor, "fleet", sliceSerials(spec), artifact.artifactUuid);
      const child = await runSimulator({ spec, target: { server: server.url, vendor: key.vendor, model: "fleet", firmwareId: String(firmwareId) }, deadlineMs: 15 * 60_000 });
      const { summary } = child;
      const simHwm = child.peakRss;
      const serverHwm = serverPid !== undefined ? (procStatusBytes(serverPid, "VmHWM") ?? 0) : 0;
      const figures: FleetSimFigures = {
        devices,
        updated: summary.updated,
        sim_peak_rss_mb: Math.round(simHwm / MiB),
        server_peak_rss_mb: Math.round(serverHwm / MiB),
        check_p99_ms: summary.check_p99_ms,
        wall_s: Math.round(child.wallMs / 100) / 10,
      };
      const errors = Object.entries({ ...summary.errors, ...summary.network_errors }).filter(([k]) => k !== "network").map(([k, v]) => `${k}: ${v}`).join(", ") || "none";
      table(
        ["figure", "measured", "target", "verdict"],
        [
          ["devices updated", `${fmtInt(summary.updated)} of ${fmtInt(devices)}`, "all", verdict(summary.updated === devices)],
          ["simulator peak RSS (its own process, VmHWM)", fmtMiB(simHwm), `≤ ${SIM_TARGET_MiB} MiB`, verdict(simHwm <= SIM_TARGET_MiB * MiB)],
          ["server peak RSS (container's node, VmHWM)", serverHwm ? fmtMiB(serverHwm) : "-", "", ""],
          ["errors by status", errors, "none", verdict(Object.keys(summary.errors).length === 0)],
          ["update check p50 / p95 / p99", `${summary.check_p50_ms} / ${summary.check_p95_ms} / ${summary.check_p99_ms} ms`, "", ""],
          ["download chunk p99 (256 KiB)", `${summary.download_p99_ms} ms`, "", ""],
          ["requests, bytes", `${fmtInt(summary.requests)}, ${fmtMiB(summary.bytes)}`, "", ""],
          ["wall time, fleet start to every device settled", `${figures.wall_s} s`, "", ""],
        ],
      );
      note(`peak ${fmtInt(child.peakRps)} requests/s; at most ${fmtInt(child.peakDownloading)} devices downloading at once; ${connections} connections`);
      if (Object.keys(child.reasons).length) note(`devices that did not update: ${JSON.stringify(child.reasons)}`);
      if (jsonFile) {
        writeFileSync(jsonFile, `${JSON.stringify(figures, null, 2)}\n`);
        note(`figures written to ${jsonFile}`);
      }
    } finally {
      await server?.stop();
      tmp.cleanup();
    }
  },
};

interface SimResult {
  summary: Omit<FleetSummary, "series">;
  wallMs: number;
  peakRss: number;
  peakRps: number;
  peakDownloading: number;
  reasons: Record<string, number>;
}

/** Runs the fleet in its own process (bench/lib/fleet-sim-child.ts); its progress lines go to stderr as they come. */
async function runSimulator(job: SimJob): Promise<SimResult> {
  const child = execa(process.execPath, ["--import", "tsx", join(ROOT, "bench/lib/fleet-sim-child.ts"), JSON.stringify(job)], {
    cwd: ROOT,
    stderr: "inherit",
    timeout: job.deadlineMs + 60_000,
  });
  const r = await child;
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as SimResult;
}

/** A process-mode server's PID (the harness's OtaServer keeps it as `pid` where it has one). */
function processPid(server: OtaServer): number | undefined {
  const pid = (server as { pid?: unknown }).pid;
  return typeof pid === "number" ? pid : undefined;
}

/** The host PID of the container's main process (the server's node), for its VmHWM. */
async function containerPid(id: string): Promise<number | undefined> {
  const r = await execa("docker", ["inspect", "-f", "{{.State.Pid}}", id], { reject: false });
  const pid = Number(r.stdout.trim());
  return r.exitCode === 0 && pid > 0 ? pid : undefined;
}
