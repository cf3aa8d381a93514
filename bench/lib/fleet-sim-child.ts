// The simulator of `bench fleet-sim` in a process of its own, so its memory is its alone (the
// bench's process also holds the container client and the image build). Reads a job (JSON) as
// its argument, runs the fleet until every device settled or the deadline, prints one JSON line:
// the fleet's summary without its series, plus peaks, and its own VmHWM.
import { readFileSync } from "node:fs";
import { Fleet, type FleetTarget } from "../../harness/fleet/fleet.ts";
import type { FleetSpec } from "../../harness/fleet/spec.ts";

export interface SimJob {
  spec: FleetSpec;
  target: FleetTarget;
  deadlineMs: number;
}

const SETTLED = new Set(["updated", "failed", "rejected", "reverted"]);

const job = JSON.parse(process.argv[2]!) as SimJob;
const t0 = performance.now();
const fleet = new Fleet({ spec: job.spec, target: job.target, clock: () => performance.now() - t0 });
const progress = setInterval(() => {
  const s = fleet.states();
  const m = process.memoryUsage();
  process.stderr.write(
    `  ${((performance.now() - t0) / 1000).toFixed(0)} s: ${Object.entries(s).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")}` +
      `  (simulator rss ${(m.rss / 2 ** 20).toFixed(0)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MiB)\n`,
  );
}, 5000);
while (!fleet.devices.every((d) => SETTLED.has(d.state)) && performance.now() - t0 < job.deadlineMs) await new Promise((r) => setTimeout(r, 250));
const wallMs = performance.now() - t0;
clearInterval(progress);
const { series, ...summary } = await fleet.stop();
const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
const reasons: Record<string, number> = {};
for (const d of fleet.devices) if (d.reason) reasons[d.reason.slice(0, 60)] = (reasons[d.reason.slice(0, 60)] ?? 0) + 1;
process.stdout.write(
  `${JSON.stringify({
    summary,
    wallMs,
    peakRss: Number(hwm ?? 0) * 1024,
    peakRps: Math.max(0, ...series.map((s) => Object.values(s.rps).reduce((a, b) => a + b, 0))),
    peakDownloading: Math.max(0, ...series.map((s) => s.states.downloading)),
    reasons,
  })}\n`,
);
