// A virtual board wired like a real one on a lab bench: the board program (devices/board) on
// the device end of a serial line, its supply on an outlet of an HTTP power switch (the labgrid
// recipe's powerserver.py, a fake PDU). A small supervisor watches the outlet and starts the
// program when it goes on and SIGKILLs it when it goes off, so a power cut through the switch
// really cuts the board, wherever it is.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BOARD_PROGRAM, FLASHER_PROGRAM, REPO_ROOT } from "../../../harness/board/virtual/paths.ts";
import { programCommand } from "../../../harness/board/virtual/programs.ts";
import { freePort } from "../../board/helpers/ser2net.ts";

/** The shared recipes (../shared beside the clone in CI; two levels up from a worktree here). */
export function sharedDir(): string {
  const candidates = [process.env.OTARIG_SHARED_DIR, join(REPO_ROOT, "..", "shared"), join(REPO_ROOT, "..", "..", "shared")];
  for (const c of candidates) if (c && existsSync(join(c, "labgrid", "lab-up.sh"))) return resolve(c);
  throw new Error(`no shared/labgrid recipe found (looked in ${candidates.filter(Boolean).join(", ")}; set OTARIG_SHARED_DIR)`);
}

/** The fake PDU of the labgrid recipe, started on its own port. */
export class PowerSwitch {
  private proc: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly logFile: string,
  ) {}

  static async start(dir: string): Promise<PowerSwitch> {
    const sw = new PowerSwitch(await freePort(), join(dir, "power.log"));
    const script = join(sharedDir(), "labgrid", "powerserver.py");
    sw.proc = spawn("python3", [script, "--port", String(sw.port), "--log", sw.logFile], { stdio: "ignore", detached: true });
    const deadline = Date.now() + 10_000;
    while ((await sw.outlet(1).catch(() => undefined)) === undefined) {
      if (Date.now() > deadline) throw new Error(`powerserver.py did not answer on 127.0.0.1:${sw.port} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return sw;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async outlet(index: number): Promise<boolean> {
    const res = await fetch(`${this.url}/outlet/${index}`, { signal: AbortSignal.timeout(2000) });
    return (await res.text()).trim() === "1";
  }

  async set(index: number, on: boolean): Promise<void> {
    await fetch(`${this.url}/outlet/${index}/${on ? 1 : 0}`, { signal: AbortSignal.timeout(2000) });
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    process.kill(-proc.pid!, "SIGTERM");
    await exited;
  }
}

export interface PoweredBoardOptions {
  /** the board's end of the serial line */
  tty: string;
  flashDir: string;
  serial: string;
  /** reads the outlet: true = powered */
  outlet: () => Promise<boolean>;
  /** how often the outlet is read */
  pollMs?: number;
  /** the virtual firmware's settings (devices/board/config.ts), e.g. a slower flash */
  config?: Record<string, unknown>;
}

export class PoweredBoard {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** what the board program printed on stdout/stderr (not its console) */
  output = "";
  starts = 0;

  constructor(private readonly opts: PoweredBoardOptions) {
    mkdirSync(opts.flashDir, { recursive: true });
  }

  /** The virtual flasher, compiled: `[node, flasher, --flash-dir, dir, image]` for a rig's flash command. */
  static async flasherCommand(flashDir: string): Promise<string[]> {
    return [process.execPath, ...(await programCommand(FLASHER_PROGRAM)), "--flash-dir", flashDir, "{image}"];
  }

  start(): void {
    const poll = async () => {
      if (this.stopped) return;
      try {
        const on = await this.opts.outlet();
        if (on && !this.child) await this.powerOn();
        else if (!on && this.child) await this.powerOff();
      } catch {
        // the switch not answering for a moment (starting, busy): keep the board as it is
      }
      if (!this.stopped) this.timer = setTimeout(() => void poll(), this.opts.pollMs ?? 50);
    };
    void poll();
  }

  get powered(): boolean {
    return this.child !== undefined;
  }

  private async powerOn(): Promise<void> {
    const args = [...(await programCommand(BOARD_PROGRAM)), "--tty", this.opts.tty, "--flash-dir", this.opts.flashDir, "--serial", this.opts.serial];
    if (this.opts.config) {
      const file = join(this.opts.flashDir, "..", "board-config.json");
      writeFileSync(file, JSON.stringify(this.opts.config));
      args.push("--config", file);
    }
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.child = child;
    this.starts++;
    this.exited = new Promise((done) => child.once("exit", () => done()));
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    for (const s of [child.stdout, child.stderr]) s?.on("data", (d: Buffer) => (this.output += d.toString()));
  }

  private async powerOff(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill("SIGKILL");
    await this.exited;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.powerOff();
  }
}
