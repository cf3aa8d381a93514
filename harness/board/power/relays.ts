// Rig relay specs -> relay drivers, and the power/reset protocols on their channels.
import { InfraError } from "../../core/errors.ts";
import type { RelaySpec } from "../spec.ts";
import type { PowerProtocol, Relay, ResetProtocol } from "../types.ts";
import type { SwitchGuard } from "./serial-writer.ts";
import { CommandRelay } from "./command.ts";
import { LcusRelay } from "./lcus.ts";
import { RelayPower, RelayReset } from "./relay-channel.ts";
import { SerialTextRelay } from "./serial-text.ts";

export type { Relay } from "../types.ts";

export interface CreateRelayOptions {
  /** builds a `virtual` relay (the virtual rig's own module provides it) */
  virtual?: (spec: Extract<RelaySpec, { type: "virtual" }>, name: string) => Relay;
  /** keep serial relay ports open between commands (default true; see serial-writer.ts) */
  keepOpen?: boolean;
  cwd?: string;
  /** a lock held while one switch goes out on a serial module's port (shared modules) */
  guard?: SwitchGuard;
}

export function createRelay(
  spec: RelaySpec & { name?: string },
  onOutput?: (line: string) => void,
  options: CreateRelayOptions = {},
): Relay {
  const name = spec.name ?? spec.type;
  const keepOpen = { ...(options.keepOpen !== undefined ? { keepOpen: options.keepOpen } : {}), ...(options.guard ? { guard: options.guard } : {}) };
  switch (spec.type) {
    case "lcus":
      return new LcusRelay({ name, port: spec.port, channels: spec.channels, baud: spec.baud, ...keepOpen });
    case "serial-text":
      return new SerialTextRelay({ name, port: spec.port, baud: spec.baud, on: spec.on, off: spec.off, channels: spec.channels, ...keepOpen });
    case "command":
      return new CommandRelay({
        name,
        on: spec.on,
        off: spec.off,
        timeoutMs: spec.timeoutMs,
        channels: spec.channels,
        ...(spec.killGraceMs !== undefined ? { killGraceMs: spec.killGraceMs } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(onOutput ? { onOutput } : {}),
      });
    case "virtual":
      if (options.virtual) return options.virtual(spec, name);
      throw new InfraError(`relay ${name}: a virtual relay needs the virtual rig (no driver was given for it)`);
  }
}

export function powerFor(relay: Relay, channel: number): PowerProtocol {
  return new RelayPower(relay, channel);
}

export function resetFor(relay: Relay, channel: number, pulseMs = 200): ResetProtocol {
  return new RelayReset(relay, channel, pulseMs);
}
