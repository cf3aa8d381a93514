// LCUS-1/2/4/8 USB relay modules (CH340 USB-serial, 9600 baud). Each switch is one 4-byte frame:
// A0 <channel> <0|1> <checksum>, checksum = (0xA0 + channel + state) & 0xFF. The module does not
// reply, so "not answering" can only mean the port is missing or will not take the bytes.
import type { Relay } from "../types.ts";
import { checkChannel } from "./channels.ts";
import { SerialWriter, type SwitchGuard } from "./serial-writer.ts";

export interface LcusRelayOptions {
  name: string;
  port: string;
  channels: number;
  baud?: number;
  keepOpen?: boolean;
  guard?: SwitchGuard;
}

export function lcusFrame(channel: number, on: boolean): Buffer {
  const state = on ? 1 : 0;
  return Buffer.from([0xa0, channel, state, (0xa0 + channel + state) & 0xff]);
}

export class LcusRelay implements Relay {
  readonly name: string;
  readonly channels: number;
  private readonly writer: SerialWriter;

  constructor(options: LcusRelayOptions) {
    this.name = options.name;
    this.channels = options.channels;
    this.writer = new SerialWriter({
      port: options.port,
      baud: options.baud ?? 9600,
      what: `relay ${options.name} (lcus)`,
      ...(options.keepOpen !== undefined ? { keepOpen: options.keepOpen } : {}),
      ...(options.guard ? { guard: options.guard } : {}),
    });
  }

  async set(channel: number, on: boolean): Promise<void> {
    checkChannel(`relay ${this.name}`, channel, this.channels);
    await this.writer.write(lcusFrame(channel, on));
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
