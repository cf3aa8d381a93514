import { ScenarioError } from "../../core/errors.ts";

/** Channels are 1-based, as printed on the modules; a channel the module lacks is a rig error. */
export function checkChannel(what: string, channel: number, channels: number): void {
  if (!Number.isInteger(channel) || channel < 1 || channel > channels) {
    throw new ScenarioError(`${what}: channel ${channel} does not exist (the relay has channels 1–${channels})`);
  }
}
