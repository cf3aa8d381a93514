// One virtual board on the harness side: a socat PTY pair for its console and the board program
// (devices/board/main.ts) as its power. Power on spawns the program, power off SIGKILLs it
// wherever it is (mid-install too), reset is off + on, as pulling EN low would be.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { processPower } from "../power/process-power.ts";
import { InfraError } from "../../core/errors.ts";
import { trackChild } from "../../core/child-registry.ts";
import type { PowerProtocol, ResetProtocol, WriteReportProtocol } from "../types.ts";
import { BOARD_PROGRAM, FLASHER_PROGRAM, REPO_ROOT } from "./paths.ts";
import { programCommand } from "./programs.ts";
import { openPtyPair, requireSocat, SOCAT_INSTALL, type PtyPair } from "./pty-pair.ts";
import { WriteReports } from "./write-reports.ts";

export { BOARD_PROGRAM, FLASHER_PROGRAM, requireSocat, SOCAT_INSTALL };

export interface VirtualBoardOptions {
  name: string;
  serialNumber: string;
  /** holds the PTY links (`console`, `device`), `flash/` and the board's config file */
  workDir: string;
  /** the rig's `virtual: { config }`: formats and settings of the virtual firmware */
  config?: Record<string, unknown>;
  /** what the board program prints on stdout/stderr (not the console), line by line */
  onOutput?: (line: string) => void;
  /** argv the board program is started under, e.g. `ip netns exec <ns>` (an isolated board) */
  commandPrefix?: string[];
}

export interface VirtualBoard {
  readonly name: string;
  /** the harness end of the console PTY pair: open it as any serial port */
  readonly consolePort: string;
  /** the board's end (its UART) */
  readonly devicePort: string;
  readonly flashDir: string;
  readonly power: PowerProtocol;
  readonly reset: ResetProtocol;
  /** the pages it writes, page by page (its program's stdout), and a hold between pages */
  readonly writes: WriteReportProtocol;
  /** whether the board program is running ("powered") */
  isPowered(): boolean;
  /** Powers the board off and removes the PTY pair. */
  stop(): Promise<void>;
}

export async function startVirtualBoard(opts: VirtualBoardOptions): Promise<VirtualBoard> {
  const workDir = resolve(opts.workDir);
  const flashDir = join(workDir, "flash");
  mkdirSync(flashDir, { recursive: true });
  const output = opts.onOutput ?? (() => {});
  let configFile: string | undefined;
  if (opts.config && Object.keys(opts.config).length > 0) {
    configFile = join(workDir, "board-config.json");
    writeFileSync(configFile, JSON.stringify(opts.config, null, 2));
  }

  const pty: PtyPair = await openPtyPair(join(workDir, "console"), join(workDir, "device"), { onOutput: (line) => output(`socat: ${line}`) });
  const args = [...(await programCommand(BOARD_PROGRAM)), "--tty", pty.b, "--flash-dir", flashDir, "--serial", opts.serialNumber];
  if (configFile) args.push("--config", configFile);
  const program = new BoardProcess([...(opts.commandPrefix ?? []), process.execPath, ...args], output);
  const writes = new WriteReports((line) => program.tell(line));
  program.onStart = () => writes.started();
  program.take = (line) => writes.take(line);

  const power = processPower(program);
  return {
    name: opts.name,
    consolePort: pty.a,
    devicePort: pty.b,
    flashDir,
    power,
    writes,
    reset: {
      reset: async () => {
        await program.kill();
        await program.start();
      },
    },
    isPowered: () => program.running,
    stop: async () => {
      await program.kill();
      await pty.close();
    },
  };
}

/** The board program as a child process: at most one at a time. */
class BoardProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** a line of its output the caller keeps for itself (not passed on to `output`) */
  take: (line: string) => boolean = () => false;
  onStart: () => void = () => {};

  constructor(
    /** the program and its arguments */
    private readonly argv: string[],
    private readonly output: (line: string) => void,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) return; // already on
    // A stdin pipe ties the board's life to ours: the board exits when the pipe closes.
    const [program, ...args] = this.argv as [string, ...string[]];
    const child = spawn(program, args, { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.child = child;
    if (child.pid !== undefined) child.once("exit", trackChild(child.pid, "virtual board program"));
    this.exited = new Promise((done) => {
      child.once("exit", (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (signal !== "SIGKILL") this.output(`board program exited (${signal ?? `code ${code}`})`);
        done();
      });
    });
    if (child.stdout) createInterface({ input: child.stdout }).on("line", (line) => this.take(line) || this.output(line));
    if (child.stderr) createInterface({ input: child.stderr }).on("line", this.output);
    child.stdin?.on("error", () => {}); // a write racing a kill: the board is gone, nothing to tell
    await new Promise<void>((ok, fail) => {
      child.once("spawn", ok);
      child.once("error", (err) => {
        this.child = undefined;
        fail(new InfraError(`cannot start the virtual board program ${BOARD_PROGRAM}: ${err.message}`, { cause: err }));
      });
    });
    this.onStart();
  }

  /** A line to the running program's stdin (its write probe's hold/go); dropped when it is off. */
  tell(line: string): void {
    const stdin = this.child?.stdin;
    if (stdin && !stdin.destroyed) stdin.write(`${line}\n`);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill("SIGKILL");
    await this.exited;
  }
}
