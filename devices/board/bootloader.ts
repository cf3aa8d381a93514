// The second-stage bootloader: picks the slot to run, verifies it, reverts an unconfirmed trial
// and falls back from a torn or corrupt slot, saying what it did on the console.
import { sha256, verifyImage } from "../firmware-image.ts";
import type { BoardConfig, MessageKey } from "./config.ts";
import { format } from "./config.ts";
import type { Flash, Slot } from "./flash.ts";
import { otherSlot } from "./flash.ts";

export interface RunningImage {
  slot: Slot;
  version: string;
  sha256: string;
  trial: boolean;
}

/** What happened to an update across this boot, for the firmware's status report. */
export type UpdateOutcome =
  | { kind: "trial-boot"; hash: string }
  | { kind: "failed"; hash: string; message: string };

export interface BootResult {
  running?: RunningImage;
  outcome?: UpdateOutcome;
}

export function boot(flash: Flash, config: BoardConfig, print: (line: string) => void): BootResult {
  const say = (key: MessageKey, fields: Record<string, string | number> = {}) => print(format(config.messages[key], fields));
  say("boot_header");
  let state = flash.readState();
  let outcome: UpdateOutcome | undefined;

  // A trial slot gets exactly one boot; coming back here unconfirmed means the app did not make it.
  if (state.trial && state.trialBooted) {
    const from = state.active;
    say("boot_revert", { slot: from, other: otherSlot(from) });
    outcome = { kind: "failed", hash: state.updateHash ?? "", message: `slot ${from} was not confirmed, reverted to slot ${otherSlot(from)}` };
    state = flash.updateState({ active: otherSlot(from), trial: false, trialBooted: false });
  }

  const order: Slot[] = [state.active, otherSlot(state.active)];
  for (const [i, slot] of order.entries()) {
    say("boot_checking", { slot });
    const image = flash.readSlot(slot);
    const check = image === undefined ? { ok: false as const, reason: "empty" } : verifyImage(image);
    if (check.ok && image) {
      const trial = slot === state.active && state.trial;
      if (trial) {
        flash.updateState({ trialBooted: true });
        outcome = { kind: "trial-boot", hash: state.updateHash ?? sha256(image) };
      }
      say("banner", { slot, version: check.header.version, sha256: sha256(image), trial: trial ? 1 : 0 });
      return { running: { slot, version: check.header.version, sha256: sha256(image), trial }, outcome };
    }
    const reason = check.ok ? "unreadable" : check.reason;
    const next = order[i + 1];
    if (next) {
      say("boot_invalid_fallback", { slot, reason, other: next });
      if (state.trial && slot === state.active) {
        outcome = { kind: "failed", hash: state.updateHash ?? "", message: `slot ${slot} invalid: ${reason}` };
      }
      state = flash.updateState({ active: next, trial: false, trialBooted: false });
    } else {
      say("boot_invalid", { slot, reason });
    }
  }
  say("boot_none");
  return { outcome };
}
