// Power and reset through one relay channel. Power: the channel feeds the board (on = powered).
// Reset: the channel shorts the reset line while on, so a reset is a pulse.
import type { PowerProtocol, Relay, ResetProtocol } from "../types.ts";

export class RelayPower implements PowerProtocol {
  constructor(
    readonly relay: Relay,
    readonly channel: number,
  ) {}

  on(): Promise<void> {
    return this.relay.set(this.channel, true);
  }

  off(): Promise<void> {
    return this.relay.set(this.channel, false);
  }

  async cycle(offMs: number): Promise<void> {
    await this.off();
    await sleep(offMs);
    await this.on();
  }
}

export class RelayReset implements ResetProtocol {
  constructor(
    readonly relay: Relay,
    readonly channel: number,
    readonly pulseMs: number,
  ) {}

  async reset(): Promise<void> {
    await this.relay.set(this.channel, true);
    try {
      await sleep(this.pulseMs);
    } finally {
      // Always let go of the reset line, or the board stays held in reset.
      await this.relay.set(this.channel, false);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
