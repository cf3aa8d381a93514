// Relays switched by a command-line tool: usbrelay, uhubctl, sispmctl, a lab's own script.
// Placeholders: {channel} / {ch} (1-based), {ch0} (0-based), {state} (on|off), {value} (1|0).
import type { Relay } from "../types.ts";
import { fillPlaceholders, runTool } from "../exec.ts";
import { checkChannel } from "./channels.ts";

export interface CommandRelayOptions {
  name: string;
  on: string[];
  off: string[];
  timeoutMs: number;
  channels: number;
  /** working directory of the tool: the rig file's directory */
  cwd?: string;
  /** SIGTERM -> SIGKILL grace when the tool is stopped */
  killGraceMs?: number;
  /** the tool's output lines (for the run log) */
  onOutput?: (line: string) => void;
}

export class CommandRelay implements Relay {
  readonly name: string;
  readonly channels: number;

  constructor(private readonly options: CommandRelayOptions) {
    this.name = options.name;
    this.channels = options.channels;
  }

  async set(channel: number, on: boolean, signal?: AbortSignal): Promise<void> {
    const what = `relay ${this.name}`;
    checkChannel(what, channel, this.channels);
    const values = {
      channel: String(channel),
      ch: String(channel),
      ch0: String(channel - 1),
      state: on ? "on" : "off",
      value: on ? "1" : "0",
    };
    const command = (on ? this.options.on : this.options.off).map((arg) => fillPlaceholders(arg, values, what));
    await runTool({
      command,
      timeoutMs: this.options.timeoutMs,
      what: `${what} (channel ${channel} ${values.state})`,
      ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
      ...(this.options.killGraceMs !== undefined ? { killGraceMs: this.options.killGraceMs } : {}),
      ...(signal ? { signal } : {}),
      ...(this.options.onOutput ? { onLine: this.options.onOutput } : {}),
    });
  }

  async close(): Promise<void> {}
}
