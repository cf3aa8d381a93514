// Flashing by command: esptool, openocd, dfu-util, nrfjprog, the virtual flasher. The rig gives
// an argv template; `{port}`, `{image}` and `{board.*}` are filled in, the tool runs with execa
// and a timeout, its output goes to the run log, and a `progress` regex turns its progress lines
// into fractions. With `sharePort` the console lets go of the port for the flasher and takes it
// back the moment the flasher exits, so the board's first boot lines after flashing are captured.
import { resolve } from "node:path";
import { InfraError } from "../../core/errors.ts";
import type { FlashProtocol } from "../types.ts";
import { fillPlaceholders, runTool } from "../exec.ts";

/** What sharing the port needs from a console: SerialConsole.release / reacquire. */
export interface ShareableConsole {
  release(reason?: string): Promise<void>;
  reacquire(): Promise<void>;
}

export interface CommandFlasherOptions {
  /** argv template, e.g. ["esptool.py", "--port", "{port}", "write_flash", "0x0", "{image}"] */
  command: string[];
  cwd: string;
  timeoutMs: number;
  /** regex source with a `percent` (0–100) group, or `done` and `total` groups */
  progress?: string;
  /** values for placeholders: port, board.serial, … ({image} is added per call) */
  placeholders: Record<string, string>;
  /** the flasher needs the console's port: release it during flashing */
  sharePort: boolean;
  console?: ShareableConsole;
  /** every output line of the flasher (for the run log) */
  onOutput?: (line: string) => void;
  /** stops a running flasher (SIGINT, teardown); a signal given to program() wins */
  signal?: AbortSignal;
  /** SIGTERM -> SIGKILL grace when the flasher is stopped (default 5 s) */
  killGraceMs?: number;
  /** name for messages; default "flasher" */
  what?: string;
}

export class CommandFlasher implements FlashProtocol {
  private readonly progress: RegExp | undefined;

  constructor(private readonly options: CommandFlasherOptions) {
    this.progress = options.progress ? new RegExp(options.progress) : undefined;
    if (options.sharePort && !options.console) throw new InfraError(`${this.what}: share_port needs the board's console`);
  }

  private get what(): string {
    return this.options.what ?? "flasher";
  }

  async program(image: string, onProgress?: (fraction: number, line: string) => void, signal?: AbortSignal): Promise<void> {
    const { options } = this;
    const values = { ...options.placeholders, image: resolve(options.cwd, image) };
    const command = options.command.map((arg) => fillPlaceholders(arg, values, this.what));
    const onLine = (line: string) => {
      options.onOutput?.(line);
      const fraction = this.progress && onProgress ? progressOf(this.progress, line) : undefined;
      if (fraction !== undefined) onProgress?.(fraction, line);
    };

    const console = options.sharePort ? options.console : undefined;
    if (console) await console.release("released to the flasher");
    let failure: unknown;
    try {
      await runTool({
        command,
        cwd: options.cwd,
        timeoutMs: options.timeoutMs,
        what: this.what,
        onLine,
        ...((signal ?? options.signal) ? { signal: signal ?? options.signal } : {}),
        ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
      });
    } catch (err) {
      failure = err;
    }
    // Reopen before anything else: what the board prints from now on must reach the log.
    if (console) {
      try {
        await console.reacquire();
      } catch (err) {
        // A flasher failure explains a console that did not come back; report that one.
        if (failure === undefined) throw err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

/** The fraction (0..1) a progress line reports, if it matches. */
export function progressOf(re: RegExp, line: string): number | undefined {
  const g = re.exec(line)?.groups;
  if (!g) return undefined;
  if (g.percent !== undefined) {
    const p = Number(g.percent);
    return Number.isFinite(p) ? clamp(p / 100) : undefined;
  }
  if (g.done !== undefined && g.total !== undefined) {
    const done = Number(g.done);
    const total = Number(g.total);
    return total > 0 && Number.isFinite(done) ? clamp(done / total) : undefined;
  }
  return undefined;
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}
