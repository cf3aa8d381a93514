// Power and reset through one relay channel. Power: the channel feeds the board (on = powered).
// Reset: the channel shorts the reset line while on, so a reset is a pulse.
import { setTimeout as sleep } from "node:timers/promises";
import type { PowerProtocol, Relay, ResetProtocol } from "../types.ts";

export class RelayPower implements PowerProtocol {
  constructor(
    readonly relay: Relay,
    readonly channel: number,
  ) {}

  on(signal?: AbortSignal): Promise<void> {
    return this.relay.set(this.channel, true, signal);
  }

  off(signal?: AbortSignal): Promise<void> {
    return this.relay.set(this.channel, false, signal);
  }

  async cycle(offMs: number, signal?: AbortSignal): Promise<void> {
    await this.off(signal);
    await sleep(offMs, undefined, signal ? { signal } : {});
    await this.on(signal);
  }
}

export class RelayReset implements ResetProtocol {
  constructor(
    readonly relay: Relay,
    readonly channel: number,
    readonly pulseMs: number,
  ) {}

  async reset(signal?: AbortSignal): Promise<void> {
    await this.relay.set(this.channel, true, signal);
    try {
      await sleep(this.pulseMs, undefined, signal ? { signal } : {});
    } finally {
      // Always let go of the reset line, even when the step was stopped, or the board stays held in reset.
      await this.relay.set(this.channel, false);
    }
  }
}
