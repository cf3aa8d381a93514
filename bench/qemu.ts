// `bench qemu`: the QEMU board (rigs/qemu.yaml): power on to the shell prompt (wall and QEMU's
// CPU seconds, first console byte), peak memory of one board (QEMU's VmHWM), one full OTA cycle
// through the CLI (ota-happy-path), and with --suite the wall time of the nightly suite.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { startQemuBoard } from "../harness/board/qemu/qemu-board.ts";
import { qemuMissing } from "../harness/board/qemu/guest-images.ts";
import { fmtMiB, fmtMs, heading, note, numberOption, ROOT, runToEnd, table, tempDir, type Benchmark } from "./lib/common.ts";

const CLI = join(ROOT, "harness/cli/main.ts");
const PROMPT = "ota> ";

interface BootFigures {
  firstByteMs: number;
  promptMs: number;
  cpuS: number;
  peakBytes: number;
}

export const qemuBench: Benchmark = {
  name: "qemu",
  summary: "QEMU board: power on → shell prompt, peak memory per board, one OTA cycle (ota-happy-path), --suite: the nightly suite's wall time",
  optionsHelp: ["--boots 3            boots measured (the median is shown)", "--suite 1            also run the nightly suite (all scenarios but fleet-rollout and power-cut-sweep; ~15 min)"],
  async run(ctx) {
    const missing = qemuMissing();
    if (missing.length > 0) {
      note(`qemu: not set up (${missing.map((m) => `${m.what}; fix: ${m.fix}`).join("; ")})`);
      return;
    }
    const boots = Math.round(numberOption(ctx, "boots", 3, 20));
    const tmp = tempDir(ctx, "qemu");
    try {
      heading("qemu: power on → shell prompt (TCG, one board)");
      const figures: BootFigures[] = [];
      for (let i = 0; i < boots; i++) figures.push(await bootOnce(join(tmp.path, `boot-${i}`)));
      const med = (f: (b: BootFigures) => number) => median(figures.map(f));
      table(
        ["figure", `median of ${boots}`, "min", "max"],
        [
          ["power on → first console byte", fmtMs(med((b) => b.firstByteMs)), fmtMs(min(figures, (b) => b.firstByteMs)), fmtMs(max(figures, (b) => b.firstByteMs))],
          ["power on → prompt", fmtMs(med((b) => b.promptMs)), fmtMs(min(figures, (b) => b.promptMs)), fmtMs(max(figures, (b) => b.promptMs))],
          ["QEMU CPU to prompt", `${med((b) => b.cpuS).toFixed(2)} s`, `${min(figures, (b) => b.cpuS).toFixed(2)} s`, `${max(figures, (b) => b.cpuS).toFixed(2)} s`],
          ["peak memory per board (QEMU VmHWM)", fmtMiB(med((b) => b.peakBytes)), fmtMiB(min(figures, (b) => b.peakBytes)), fmtMiB(max(figures, (b) => b.peakBytes))],
        ],
      );
      note("a boot is CPU-bound under TCG: on a busy machine the wall time grows, the CPU seconds do not");

      heading("qemu: one OTA cycle through the CLI (ota-happy-path --rig rigs/qemu.yaml --server process)");
      const run = join(tmp.path, "happy");
      const finished = await runToEnd(
        process.execPath,
        ["--import", "tsx", CLI, "scenarios/ota-happy-path.yaml", "--rig", "rigs/qemu.yaml", "--server", "process", "--out", run],
        { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, outFile: join(tmp.path, "happy.txt"), timeoutMs: 600_000 },
      );
      const result = JSON.parse(readFileSync(join(run, "result.json"), "utf8")) as { status: string; durationMs: number; steps: { name?: string; label: string; startedMs: number; durationMs: number }[] };
      const steps = result.steps;
      const check = steps.find((s) => s.name === "device.check");
      const booted = steps.find((s) => /version=1\\?\.1\\?\.0/.test(s.label) && s.name === "expect");
      const rows: string[][] = [
        ["status", result.status],
        ["CLI wall", fmtMs(finished.wallMs)],
        ["result.json durationMs", fmtMs(result.durationMs)],
      ];
      if (check && booted) rows.push(["OTA cycle: check → new image booted", fmtMs(booted.startedMs + booted.durationMs - check.startedMs)]);
      for (const s of steps.filter((s) => ["device.download", "device.install", "power"].includes(s.name ?? "") || s === booted)) rows.push([`  ${s.label}`, fmtMs(s.durationMs)]);
      table(["figure", "measured"], rows);

      if (ctx.options.get("suite") === "1") {
        heading("qemu: the nightly suite (every scenario but fleet-rollout and power-cut-sweep, --rig rigs/qemu.yaml)");
        const scenarios = readdirSync(join(ROOT, "scenarios")).filter((f) => f.endsWith(".yaml") && f !== "fleet-rollout.yaml" && f !== "power-cut-sweep.yaml").map((f) => `scenarios/${f}`);
        const suite = await runToEnd(
          process.execPath,
          ["--import", "tsx", CLI, ...scenarios, "--rig", "rigs/qemu.yaml", "--out", join(tmp.path, "suite")],
          { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, outFile: join(tmp.path, "suite.txt"), timeoutMs: 3_600_000 },
        );
        table(["figure", "measured"], [["scenarios", String(scenarios.length)], ["exit code", String(suite.code)], ["suite wall time", fmtMs(suite.wallMs)]]);
      } else {
        note("suite wall time: not measured (add --suite 1; about 15 minutes)");
      }
    } finally {
      tmp.cleanup();
    }
  },
};

/** Flashes 1.0.0 onto a fresh disk, powers on, waits for the prompt; QEMU's CPU time and VmHWM then. */
async function bootOnce(dir: string): Promise<BootFigures> {
  const board = await startQemuBoard({ name: "bench", serialNumber: "QB-BENCH", workDir: dir, memoryMb: 128, flashDelayUs: 60_000, diskWriteBps: 0, uplink: () => undefined });
  const port = new SerialPort({ path: board.consolePort, baudRate: 115200, autoOpen: false });
  try {
    execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "devices/qemu/flasher.ts"), "--disk", board.disk, join(ROOT, "fixtures/firmware/app-1.0.0.bin")], { cwd: ROOT });
    await new Promise<void>((ok, fail) => port.open((err) => (err ? fail(err) : ok())));
    let text = "";
    let firstByteMs = -1;
    let start = 0;
    const prompt = new Promise<number>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no "${PROMPT}" within 120 s; last output: ${text.slice(-300)}`)), 120_000);
      port.on("data", (chunk: Buffer) => {
        if (firstByteMs < 0) firstByteMs = performance.now() - start;
        text += chunk.toString("latin1");
        if (text.includes(PROMPT)) {
          clearTimeout(timer);
          ok(performance.now() - start);
        }
      });
    });
    start = performance.now();
    await board.power.on();
    const promptMs = await prompt;
    const pid = execFileSync("pgrep", ["-f", `^qemu-system.*OTA_SERIAL=QB-BENCH.*${dir}`], { encoding: "utf8" }).trim().split("\n")[0];
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const cpuS = (Number(stat[11]) + Number(stat[12])) / 100;
    return { firstByteMs, promptMs, cpuS, peakBytes: board.peakMemory() ?? 0 };
  } finally {
    if (port.isOpen) await new Promise<void>((ok) => port.close(() => ok()));
    await board.stop();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
function min<T>(items: T[], f: (t: T) => number): number {
  return Math.min(...items.map(f));
}
function max<T>(items: T[], f: (t: T) => number): number {
  return Math.max(...items.map(f));
}
