// Reset by a command: a lab script, `uhubctl -a cycle`, an OpenOCD `reset run`, …
import type { ResetProtocol } from "../types.ts";
import { runTool } from "../exec.ts";

export class CommandReset implements ResetProtocol {
  constructor(
    private readonly command: string[],
    private readonly timeoutMs: number,
    private readonly onOutput?: (line: string) => void,
    private readonly cwd?: string,
  ) {}

  async reset(): Promise<void> {
    await runTool({
      command: this.command,
      timeoutMs: this.timeoutMs,
      what: "reset command",
      ...(this.onOutput ? { onLine: this.onOutput } : {}),
      ...(this.cwd ? { cwd: this.cwd } : {}),
    });
  }
}
