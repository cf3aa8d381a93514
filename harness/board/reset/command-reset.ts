// Reset by a command: a lab script, `uhubctl -a cycle`, an OpenOCD `reset run`, … It runs in the
// rig file's directory (like the flasher) and its output goes to the run log.
import type { ResetProtocol } from "../types.ts";
import { runTool } from "../exec.ts";

export interface CommandResetOptions {
  command: string[];
  timeoutMs: number;
  /** the rig file's directory */
  cwd?: string;
  killGraceMs?: number;
  onOutput?: (line: string) => void;
  /** for messages: "reset command of board dut" */
  what?: string;
}

export class CommandReset implements ResetProtocol {
  constructor(private readonly options: CommandResetOptions) {}

  async reset(signal?: AbortSignal): Promise<void> {
    const o = this.options;
    await runTool({
      command: o.command,
      timeoutMs: o.timeoutMs,
      what: o.what ?? "reset command",
      ...(o.onOutput ? { onLine: o.onOutput } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
      ...(o.killGraceMs !== undefined ? { killGraceMs: o.killGraceMs } : {}),
      ...(signal ? { signal } : {}),
    });
  }
}
