// `bench fleet`: wall time of fleet-rollout for a fleet of 1, 4, 8 and 16 virtual boards, and of
// ota-happy-path, each run through the `rig` CLI as a subprocess with `--server process`.
//
// A fleet of N needs its own rig: this writes one (N boards like rigs/fleet.yaml) and a copy of
// scenarios/fleet-rollout.yaml listing the N serials into a temp dir, with every path absolute
// (profile and firmware; the flash command runs in the rig
// file's directory). The generated rig has its own lock_dir, and ota-happy-path runs with a
// private XDG_CACHE_HOME, so a run elsewhere on this machine holding the shipped rigs' board
// locks cannot turn into lock waiting here.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import {
  fmtMs,
  heading,
  note,
  numberList,
  numberOption,
  ROOT,
  runToEnd,
  table,
  tempDir,
  verdict,
  writeText,
  type Benchmark,
  type Finished,
} from "./lib/common.ts";

/** The `rig` command as `npx rig` and a global install run it (the esbuild bundle). */
const CLI = join(ROOT, "bin/rig.js");
const RUN_TIMEOUT_MS = 300_000;
const FLEET_TARGET_RATIO = 1.5;
const HAPPY_TARGET_MS = 3000;
const VERSION_TARGET_MS = 150;
const OUTSIDE_RUN_TARGET_MS = 300;

interface StepFigure {
  path: string;
  label: string;
  durationMs: number;
  startedMs: number;
}

interface RunFigures {
  label: string;
  wallMs: number;
  /** result.json's durationMs */
  runMs: number | undefined;
  /** when the first step started (ms after run start): locks, PTYs, consoles, board processes, server */
  setupMs: number | undefined;
  status: string;
  steps: StepFigure[];
  outFile: string;
  runDir: string;
}

export const fleetBench: Benchmark = {
  name: "fleet",
  summary: "wall time of fleet-rollout for N virtual boards (target: 16 boards ≤ 1.5× one) and of ota-happy-path (target < 3 s)",
  optionsHelp: ["--boards 1,4,8,16   fleet sizes", "--runs 1            runs per size (the median is shown)"],
  async run(ctx) {
    const sizes = numberList(ctx, "boards", [1, 4, 8, 16]).map((n) => Math.min(64, Math.round(n)));
    const runs = Math.round(numberOption(ctx, "runs", 1, 10));
    const tmp = tempDir(ctx, "fleet");
    try {
      heading("fleet: fleet-rollout through the CLI (--server process)");
      const startup = await tsxStartup(tmp.path);
      note(
        `process start, for scale (median of 5): node -e 0 ${fmtMs(startup.plain)}; node --import tsx, empty module ${fmtMs(startup.tsx)} ` +
          `(each virtual board power-on, flasher run, relay emulator and process-mode server is one); ` +
          `rig --version through tsx (the sources) ${fmtMs(startup.tsxCli)}`,
      );
      table(
        ["figure", "measured", "target", "verdict"],
        [["rig --version (bin/rig.js, what npx rig runs; median of 5)", fmtMs(startup.cli), `< ${fmtMs(VERSION_TARGET_MS)}`, verdict(startup.cli < VERSION_TARGET_MS)]],
      );

      const bySize = new Map<number, RunFigures>();
      for (const n of sizes) {
        const all: RunFigures[] = [];
        for (let r = 0; r < runs; r++) all.push(await runFleet(tmp.path, n, r));
        const med = median(all);
        bySize.set(n, med);
        note(`  ${n} board(s): ${med.status}, wall ${fmtMs(med.wallMs)}${runs > 1 ? ` (median of ${runs})` : ""}`);
      }
      const rows = [...bySize.entries()].map(([n, f]) => [
        String(n),
        f.status,
        fmtMs(f.wallMs),
        f.runMs !== undefined ? fmtMs(f.runMs) : "-",
        f.setupMs !== undefined ? fmtMs(f.setupMs) : "-",
        stepsMs(f) !== undefined ? fmtMs(stepsMs(f)!) : "-",
        teardownMs(f) !== undefined ? fmtMs(teardownMs(f)!) : "-",
        f.runMs !== undefined ? fmtMs(f.wallMs - f.runMs) : "-",
      ]);
      table(["boards", "status", "CLI wall", "result.json durationMs", "setup (before step 1)", "steps", "teardown", "CLI outside the run"], rows);

      const one = bySize.get(1);
      const biggest = bySize.has(16) ? 16 : [...bySize.keys()].at(-1);
      const largest = biggest !== undefined ? bySize.get(biggest) : undefined;
      if (one && largest && biggest !== undefined && biggest > 1) {
        const wallRatio = largest.wallMs / one.wallMs;
        const runRatio = largest.runMs !== undefined && one.runMs !== undefined ? largest.runMs / one.runMs : undefined;
        table(
          ["ratio", "measured", "target", "verdict"],
          [
            [`${biggest} boards / 1 board, CLI wall`, `${wallRatio.toFixed(2)}×`, `≤ ${FLEET_TARGET_RATIO}×`, verdict(wallRatio <= FLEET_TARGET_RATIO)],
            ...(runRatio !== undefined
              ? [[`${biggest} boards / 1 board, durationMs`, `${runRatio.toFixed(2)}×`, `≤ ${FLEET_TARGET_RATIO}×`, verdict(runRatio <= FLEET_TARGET_RATIO)]]
              : []),
          ],
        );
      }
      stepTable(bySize);

      heading("fleet: ota-happy-path through the CLI (--server process)");
      const happy: RunFigures[] = [];
      for (let r = 0; r < runs; r++) happy.push(await runHappyPath(tmp.path, r));
      const h = median(happy);
      table(
        ["figure", "measured", "target", "verdict"],
        [
          ["CLI wall (bin/rig.js, incl. node start)", fmtMs(h.wallMs), `< ${fmtMs(HAPPY_TARGET_MS)}`, verdict(h.wallMs < HAPPY_TARGET_MS)],
          ...(h.runMs !== undefined
            ? [["result.json durationMs", fmtMs(h.runMs), `< ${fmtMs(HAPPY_TARGET_MS)}`, verdict(h.runMs < HAPPY_TARGET_MS)]]
            : []),
          ...(h.setupMs !== undefined ? [["  of which setup before step 1", fmtMs(h.setupMs), "", ""]] : []),
          ...(stepsMs(h) !== undefined ? [["  of which steps", fmtMs(stepsMs(h)!), "", ""]] : []),
          ...(teardownMs(h) !== undefined ? [["  of which teardown", fmtMs(teardownMs(h)!), "", ""]] : []),
          ...(h.runMs !== undefined
            ? [[
                "CLI outside the run (start, load, reports, exit)",
                fmtMs(h.wallMs - h.runMs),
                `< ${fmtMs(OUTSIDE_RUN_TARGET_MS)}`,
                verdict(h.wallMs - h.runMs < OUTSIDE_RUN_TARGET_MS),
              ]]
            : []),
        ],
      );
      note(`status ${h.status}${runs > 1 ? `, median of ${runs} runs` : ""}`);
      slowest(h);
      const failed = [...bySize.values(), h].filter((f) => f.status !== "passed");
      for (const f of failed) {
        const tail = readTail(f.outFile, 15);
        note(`note: ${f.label} did not pass (${f.status}); the end of its output:\n${tail}`);
      }
    } finally {
      tmp.cleanup();
    }
  },
};

/** Writes the N-board rig and scenario, runs the scenario through the CLI. */
async function runFleet(tmp: string, n: number, run: number): Promise<RunFigures> {
  const dir = join(tmp, `fleet-${n}-${run}`);
  const serial = (i: number) => `VB-F${String(i).padStart(3, "0")}`;
  const boards: Record<string, unknown> = {};
  for (let i = 1; i <= n; i++) {
    boards[`b${i}`] = {
      serial_number: serial(i),
      profile: join(ROOT, "fixtures/profiles/virtual-board.yaml"),
      virtual: { config: { download_retries: 8 } },
      flash: {
        command: ["{node}", "{virtual_flasher}", "--flash-dir", "{board.flash_dir}", "{image}"],
        progress: "\\((?<percent>\\d+) ?%\\)",
        timeout: "30s",
      },
    };
  }
  mkdirSync(dir, { recursive: true });
  const rigFile = join(dir, "rig.yaml");
  writeText(rigFile, `# generated by bench/fleet.ts: ${n} virtual boards like rigs/fleet.yaml\n${stringify({ name: `bench-fleet-${n}`, lock_dir: join(dir, "locks"), boards })}`);

  const scenario = parse(readFileSync(join(ROOT, "scenarios/fleet-rollout.yaml"), "utf8")) as Record<string, unknown>;
  scenario.description = `bench/fleet.ts copy of scenarios/fleet-rollout.yaml for ${n} board(s)`;
  scenario.rig = rigFile;
  const vars = (scenario.vars ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v === "string" && (v.startsWith("./") || v.startsWith("../"))) vars[k] = join(ROOT, "scenarios", v);
  }
  const refs = Array.from({ length: n }, (_, i) => `\${boards.b${i + 1}.serial}`);
  replaceDeviceLists(scenario.steps, refs);
  const scenarioFile = join(dir, "fleet-rollout.yaml");
  writeText(scenarioFile, stringify(scenario));
  return runCli(`fleet-rollout, ${n} board(s)`, scenarioFile, dir, process.env);
}

/** Every `devices: [...]` list in the steps becomes the N boards' serials. */
function replaceDeviceLists(node: unknown, refs: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) replaceDeviceLists(item, refs);
  } else if (node && typeof node === "object") {
    const obj = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (k === "devices" && Array.isArray(v)) obj[k] = [...refs];
      else replaceDeviceLists(v, refs);
    }
  }
}

async function runHappyPath(tmp: string, run: number): Promise<RunFigures> {
  const dir = join(tmp, `happy-${run}`);
  mkdirSync(dir, { recursive: true });
  return runCli("ota-happy-path", join(ROOT, "scenarios/ota-happy-path.yaml"), dir, { ...process.env, XDG_CACHE_HOME: join(dir, "cache") });
}

async function runCli(label: string, scenarioFile: string, dir: string, env: NodeJS.ProcessEnv): Promise<RunFigures> {
  const runDir = join(dir, "run");
  const outFile = join(dir, "cli-output.txt");
  // As a user runs it (`npx rig …`, `npm run rig -- …`: bin/rig.js), from the root.
  const finished: Finished = await runToEnd(
    process.execPath,
    [CLI, scenarioFile, "--server", "process", "--out", runDir],
    { cwd: ROOT, env: { ...env, NO_COLOR: "1" }, outFile, timeoutMs: RUN_TIMEOUT_MS },
  );
  let result: { durationMs?: number; status?: string; steps?: StepFigure[] } = {};
  try {
    result = JSON.parse(readFileSync(join(runDir, "result.json"), "utf8")) as typeof result;
  } catch {
    // no result.json: the status says why
  }
  const status = finished.timedOut
    ? `timed out after ${fmtMs(RUN_TIMEOUT_MS)}`
    : result.status ?? `exit ${finished.code ?? finished.signal}, no result.json`;
  const steps = (result.steps ?? []).map((s) => ({ path: s.path, label: s.label, durationMs: s.durationMs, startedMs: s.startedMs }));
  return { label, wallMs: finished.wallMs, runMs: result.durationMs, setupMs: steps[0]?.startedMs, status, steps, outFile, runDir };
}

/** From the first step's start to the last step's end. */
function stepsMs(f: RunFigures): number | undefined {
  if (f.steps.length === 0 || f.setupMs === undefined) return undefined;
  return Math.max(...f.steps.map((s) => s.startedMs + s.durationMs)) - f.setupMs;
}

/** From the last step's end to the end of the run (boards off, PTYs closed, server stopped). */
function teardownMs(f: RunFigures): number | undefined {
  if (f.steps.length === 0 || f.runMs === undefined) return undefined;
  return f.runMs - Math.max(...f.steps.map((s) => s.startedMs + s.durationMs));
}

function median(list: RunFigures[]): RunFigures {
  const sorted = [...list].sort((a, b) => a.wallMs - b.wallMs);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Per-step durations side by side for every fleet size: where the extra boards cost. */
function stepTable(bySize: Map<number, RunFigures>): void {
  const sizes = [...bySize.keys()];
  const first = [...bySize.values()].reverse().find((f) => f.steps.length > 0);
  if (!first) return;
  note("\nper step (ms), from result.json:");
  const rows = first.steps.map((s) => [
    `${s.path} ${s.label.replace(/\s+/g, " ").slice(0, 50)}`,
    ...sizes.map((n) => {
      const st = bySize.get(n)?.steps.find((x) => x.path === s.path);
      return st ? String(st.durationMs) : "-";
    }),
  ]);
  rows.unshift(["(setup before step 1)", ...sizes.map((n) => String(bySize.get(n)?.setupMs ?? "-"))]);
  table(["step", ...sizes.map((n) => `${n} board${n > 1 ? "s" : ""}`)], rows);
}

function slowest(f: RunFigures): void {
  if (f.steps.length === 0) return;
  const top = [...f.steps].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
  note("slowest steps:");
  table(
    ["step", "ms"],
    top.map((s) => [`${s.path} ${s.label.replace(/\s+/g, " ").slice(0, 70)}`, String(s.durationMs)]),
  );
}

function readTail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).map((l) => `  | ${l}`).join("\n");
  } catch {
    return "  (no output)";
  }
}

/**
 * Median wall time of an empty `node`, an empty `node --import tsx` (every board and flasher is
 * one), `rig --version` from bin/rig.js (after one warm-up run, which rebuilds the bundle if the
 * sources changed) and from the sources through tsx.
 */
async function tsxStartup(tmp: string): Promise<{ plain: number; tsx: number; cli: number; tsxCli: number }> {
  const time = async (args: string[]) => {
    const t: number[] = [];
    for (let i = 0; i < 5; i++) {
      const f = await runToEnd(process.execPath, args, { cwd: ROOT, outFile: join(tmp, "startup.txt"), timeoutMs: 60_000 });
      t.push(f.wallMs);
    }
    return t.sort((a, b) => a - b)[2]!;
  };
  await runToEnd(process.execPath, [CLI, "--version"], { cwd: ROOT, outFile: join(tmp, "startup.txt"), timeoutMs: 60_000 });
  return {
    plain: await time(["-e", "0"]),
    tsx: await time(["--import", "tsx", "-e", "0"]),
    cli: await time([CLI, "--version"]),
    tsxCli: await time(["--import", "tsx", join(ROOT, "harness/cli/main.ts"), "--version"]),
  };
}
