// labgrid-client, the lab's own CLI, run the one way otarig runs tools (harness/board/exec.ts):
// a timeout, cancellable, its output kept for errors. Every call names the coordinator and the
// user the places are held under (LG_USERNAME), so people see who holds a place.
import { runTool } from "../../board/exec.ts";

export interface LabgridClientOptions {
  /** program to run */
  client: string;
  /** host:port */
  coordinator: string;
  /** LG_USERNAME */
  user: string;
  log?: (line: string) => void;
}

/** labgrid's own default when neither the rig nor LG_COORDINATOR names a coordinator. */
export const DEFAULT_COORDINATOR = "127.0.0.1:20408";
/** One call costs ~0.5 s of CPU (Python start-up + gRPC sync); on a busy 2-core runner, more. */
const CALL_TIMEOUT_MS = 30_000;

export class LabgridClient {
  constructor(readonly opts: LabgridClientOptions) {}

  /** Runs `labgrid-client args…` and returns its output lines (stdout and stderr). */
  async run(args: string[], options: { timeoutMs?: number; token?: string; signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<string[]> {
    const lines: string[] = [];
    await runTool({
      command: [this.opts.client, ...args],
      timeoutMs: options.timeoutMs ?? CALL_TIMEOUT_MS,
      what: `labgrid (coordinator ${this.opts.coordinator})`,
      keepLines: 20,
      env: {
        LG_COORDINATOR: this.opts.coordinator,
        LG_USERNAME: this.opts.user,
        ...(options.token ? { LG_TOKEN: options.token } : {}),
      },
      onLine: (line) => {
        lines.push(line);
        options.onLine?.(line);
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return lines;
  }
}
