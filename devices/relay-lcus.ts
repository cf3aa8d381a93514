// An emulated LCUS USB relay module (CH340 + relays) for the virtual rig. It speaks the module's
// real 4-byte frames, `A0 <channel> <state> <sum>` with sum = (0xA0 + channel + state) & 0xFF,
// and never answers them, as the module does not. So the harness's real LCUS driver is what
// gets tested.
//
//   node --import tsx devices/relay-lcus.ts --tty <pty path> [--channels N]
//
// As a program it prints one JSON line per event on stdout: {"event":"ready",…},
// {"event":"switch","channel":1,"on":true}, {"event":"bad-frame","bytes":"a0 01 05 a7","reason":…}.
// It exits when stdin closes (its parent is gone), on SIGTERM or SIGINT.
import { realpathSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const START = 0xa0;

/** The frame that switches `channel` (1-based) on or off. */
export function lcusFrame(channel: number, on: boolean): Buffer {
  const state = on ? 1 : 0;
  return Buffer.from([START, channel, state, (START + channel + state) & 0xff]);
}

export interface LcusRelayOptions {
  channels: number;
  /** a channel changed state */
  onSwitch?: (channel: number, on: boolean) => void;
  /** bytes that were not a valid frame (dropped) */
  onBadFrame?: (bytes: Buffer, reason: string) => void;
}

/** The relay's logic: feed it the bytes the serial line delivers. */
export class LcusRelay {
  private readonly states: boolean[];
  private buffer = Buffer.alloc(0);

  constructor(private readonly options: LcusRelayOptions) {
    this.states = new Array<boolean>(options.channels).fill(false);
  }

  get channels(): number {
    return this.states.length;
  }

  /** Channel state (1-based); relays start open (off). */
  isOn(channel: number): boolean {
    return this.states[channel - 1] ?? false;
  }

  feed(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    while (this.buffer.length > 0) {
      const start = this.buffer.indexOf(START);
      if (start !== 0) {
        // Noise before a frame start: drop it (the module's parser does the same).
        const noise = start < 0 ? this.buffer : this.buffer.subarray(0, start);
        this.options.onBadFrame?.(Buffer.from(noise), "no frame start (0xA0)");
        this.buffer = start < 0 ? Buffer.alloc(0) : this.buffer.subarray(start);
        continue;
      }
      if (this.buffer.length < 4) return; // wait for the rest of the frame
      const frame = this.buffer.subarray(0, 4);
      const [, channel = 0, state = 0, sum = 0] = frame;
      if (((START + channel + state) & 0xff) !== sum) {
        // Resynchronise on the next 0xA0, which may be inside this frame.
        const next = frame.indexOf(START, 1);
        const dropped = next < 0 ? 4 : next;
        this.options.onBadFrame?.(Buffer.from(frame.subarray(0, dropped)), `bad checksum 0x${hex(sum)}, expected 0x${hex((START + channel + state) & 0xff)}`);
        this.buffer = this.buffer.subarray(dropped);
        continue;
      }
      this.buffer = this.buffer.subarray(4);
      if (channel < 1 || channel > this.states.length) {
        this.options.onBadFrame?.(Buffer.from(frame), `no channel ${channel} (module has ${this.states.length})`);
      } else if (state > 1) {
        this.options.onBadFrame?.(Buffer.from(frame), `bad state ${state}`);
      } else if (this.states[channel - 1] !== (state === 1)) {
        this.states[channel - 1] = state === 1;
        this.options.onSwitch?.(channel, state === 1);
      }
    }
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

export function hexBytes(bytes: Buffer): string {
  return [...bytes].map(hex).join(" ");
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tty: { type: "string" }, channels: { type: "string", default: "1" } } });
  const channels = Number(values.channels);
  if (!values.tty || !Number.isInteger(channels) || channels < 1 || channels > 8) {
    process.stderr.write("usage: relay-lcus.ts --tty <pty path> [--channels 1..8]\n");
    process.exit(2);
  }
  const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
  const { SerialPort } = await import("serialport");
  const port = new SerialPort({ path: values.tty, baudRate: 9600, lock: false, autoOpen: false });
  await new Promise<void>((ok, fail) => port.open((err) => (err ? fail(err) : ok()))).catch((err: Error) => {
    process.stderr.write(`relay-lcus: cannot open ${values.tty}: ${err.message}\n`);
    process.exit(1);
  });
  const relay = new LcusRelay({
    channels,
    onSwitch: (channel, on) => emit({ event: "switch", channel, on }),
    onBadFrame: (bytes, reason) => {
      emit({ event: "bad-frame", bytes: hexBytes(bytes), reason });
      process.stderr.write(`relay-lcus: ignored ${hexBytes(bytes)}: ${reason}\n`);
    },
  });
  port.on("data", (data: Buffer) => relay.feed(data));
  const stop = () => port.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop).on("close", stop).resume();
  emit({ event: "ready", tty: values.tty, channels });
}

// Run as a program (not imported): compare real paths, since Node runs a symlinked entry (a
// node_modules that is a link, as in a git worktree) from its real path.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(`relay-lcus: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
