// Relay boards driven by text commands on a serial port, e.g. Numato's `relay on 0\r`.
// Templates take {ch} / {channel} (1-based, as in the rig), {ch0} (0-based, Numato's numbering)
// and C-style escapes (\r, \n, \xNN) so single-quoted YAML works as well as double-quoted.
import type { Relay } from "../types.ts";
import { fillPlaceholders } from "../exec.ts";
import { checkChannel } from "./channels.ts";
import { SerialWriter, type SwitchGuard } from "./serial-writer.ts";

export interface SerialTextRelayOptions {
  name: string;
  port: string;
  baud: number;
  /** command template for "on", e.g. "relay on {ch0}\r" */
  on: string;
  off: string;
  channels: number;
  keepOpen?: boolean;
  guard?: SwitchGuard;
}

export function unescapeTemplate(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[rnt0\\])/g, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    return { r: "\r", n: "\n", t: "\t", "0": "\0", "\\": "\\" }[e] ?? e;
  });
}

export function serialTextCommand(template: string, channel: number, on: boolean, what: string): string {
  const values = { ch: String(channel), channel: String(channel), ch0: String(channel - 1), state: on ? "on" : "off" };
  return fillPlaceholders(unescapeTemplate(template), values, what);
}

export class SerialTextRelay implements Relay {
  readonly name: string;
  readonly channels: number;
  private readonly writer: SerialWriter;

  constructor(private readonly options: SerialTextRelayOptions) {
    this.name = options.name;
    this.channels = options.channels;
    this.writer = new SerialWriter({
      port: options.port,
      baud: options.baud,
      what: `relay ${options.name} (serial-text)`,
      ...(options.keepOpen !== undefined ? { keepOpen: options.keepOpen } : {}),
      ...(options.guard ? { guard: options.guard } : {}),
    });
  }

  async set(channel: number, on: boolean): Promise<void> {
    checkChannel(`relay ${this.name}`, channel, this.channels);
    const template = on ? this.options.on : this.options.off;
    await this.writer.write(serialTextCommand(template, channel, on, `relay ${this.name}`));
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
