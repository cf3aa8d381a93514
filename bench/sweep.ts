// `bench sweep`: what one point of a power-cut sweep costs on the virtual board (and with
// `--qemu 1` on a QEMU board). Runs a copy of scenarios/power-cut-sweep.yaml (QEMU:
// test-qemu/fixtures/qemu-install-sweep.yaml) with --points N through the `rig` CLI with
// `--server process`, and splits each point's wall time, from its events and steps, into its
// setup (flash the base, power on, boot), the update until the cut, and the boot after it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { fmtMs, heading, note, numberOption, ROOT, runToEnd, table, tempDir, verdict, writeText, type Benchmark } from "./lib/common.ts";

const CLI = join(ROOT, "bin/rig.js");
const TARGET_MS = 2000;

interface PointFigure {
  index: number;
  outcome: string;
  totalMs: number;
  setupMs: number;
  untilCutMs: number;
  verdictMs: number;
}

export const sweepBench: Benchmark = {
  name: "sweep",
  summary: "wall time of one power-cut sweep point on the virtual board (target ≤ 2 s: 24 points under a minute)",
  optionsHelp: ["--points 24         points of the sweep (QEMU: 8)", "--qemu 0            1: the QEMU board's sweep instead (rigs/qemu.yaml; needs npm run qemu:setup)"],
  async run(ctx) {
    const qemu = numberOption(ctx, "qemu", 0, 1) === 1;
    const count = Math.max(2, Math.round(numberOption(ctx, "points", qemu ? 8 : 24, 200)));
    const source = qemu ? "test-qemu/fixtures/qemu-install-sweep.yaml" : "scenarios/power-cut-sweep.yaml";
    const tmp = tempDir(ctx, "sweep");
    try {
      heading(`sweep: ${source} with ${count} points, through the CLI (--server process)`);
      const scenario = join(tmp.path, "sweep.yaml");
      writeText(scenario, sweepScenario(source, count));
      const out = join(tmp.path, "run");
      const run = await runToEnd(process.execPath, [CLI, scenario, "--server", "process", "--out", out], { cwd: ROOT, outFile: join(tmp.path, "output.txt"), timeoutMs: 600_000 });
      const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as { status: string; steps: Step[] };
      const points = pointFigures(join(out, "events.jsonl"), result.steps);
      note(`run: ${result.status} in ${fmtMs(run.wallMs)} (CLI wall); ${points.length} points`);
      const sorted = [...points].sort((a, b) => a.totalMs - b.totalMs);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const mean = points.reduce((s, p) => s + p.totalMs, 0) / points.length;
      table(
        ["figure", "measured", "target", "verdict"],
        [
          // the target is the virtual board's; a QEMU point is reported for scale
          ["per point, median", fmtMs(median.totalMs), qemu ? "" : `≤ ${fmtMs(TARGET_MS)}`, qemu ? "" : verdict(median.totalMs <= TARGET_MS)],
          ["per point, mean", fmtMs(mean), qemu ? "" : `≤ ${fmtMs(TARGET_MS)}`, qemu ? "" : verdict(mean <= TARGET_MS)],
          ["per point, slowest", fmtMs(sorted.at(-1)!.totalMs), "", ""],
          [`${points.length} points, the sweep step`, fmtMs(points.reduce((s, p) => s + p.totalMs, 0)), "", ""],
        ],
      );
      const avg = (f: (p: PointFigure) => number) => fmtMs(points.reduce((s, p) => s + f(p), 0) / points.length);
      table(
        ["phase (mean per point)", "time"],
        [
          ["setup: flash the base image, power on, boot", avg((p) => p.setupMs)],
          ["the update until the cut (check, download, install)", avg((p) => p.untilCutMs)],
          ["power off and back, boot, verdict", avg((p) => p.verdictMs)],
        ],
      );
    } finally {
      tmp.cleanup();
    }
  },
};

interface Step {
  path: string;
  startedMs: number;
  durationMs: number;
}

/** The sweep scenario with `count` points and absolute paths (it runs from a temp dir). */
function sweepScenario(source: string, count: number): string {
  const doc = parse(readFileSync(join(ROOT, source), "utf8")) as {
    rig: string;
    vars: Record<string, string>;
    steps: Array<Record<string, { points?: { from: number; to: number; count: number } }>>;
  };
  const dir = join(ROOT, source, "..");
  doc.rig = join(dir, doc.rig);
  for (const k of Object.keys(doc.vars)) doc.vars[k] = join(dir, doc.vars[k]!);
  const sweep = doc.steps.find((s) => s.sweep)!.sweep!;
  sweep.points = { ...sweep.points!, count };
  return stringify(doc);
}

function pointFigures(eventsFile: string, steps: Step[]): PointFigure[] {
  const events = readFileSync(eventsFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; t: number; path?: string; index?: number; start?: number; outcome?: string });
  return events
    .filter((e) => e.type === "sweep.point")
    .map((e) => {
      const prefix = `${e.path}.${e.index}.`;
      const own = steps.filter((s) => s.path.startsWith(prefix));
      const setup = own.filter((s) => s.path.startsWith(`${prefix}setup.`));
      const body = own.filter((s) => !s.path.startsWith(`${prefix}setup.`));
      const setupEnd = Math.max(e.start!, ...setup.map((s) => s.startedMs + s.durationMs));
      const bodyEnd = Math.max(setupEnd, ...body.map((s) => s.startedMs + s.durationMs));
      return { index: e.index!, outcome: e.outcome!, totalMs: e.t - e.start!, setupMs: setupEnd - e.start!, untilCutMs: bodyEnd - setupEnd, verdictMs: e.t - bodyEnd };
    });
}
