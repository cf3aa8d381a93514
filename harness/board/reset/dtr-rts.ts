// Reset through the console's own USB-serial adapter: DTR and RTS wired to the chip's reset
// (and boot-mode) pins, as on ESP32 dev kits and Arduinos. Each step sets both lines at once
// (the port's set() always sets every line), keeping the one the step does not name as it was.
import { ScenarioError } from "../../core/errors.ts";
import type { DtrRtsStep } from "../spec.ts";
import type { ResetProtocol } from "../types.ts";

/** What the reset needs from a console: SerialConsole.setSignals. */
export interface ModemLines {
  setSignals(signals: { dtr: boolean; rts: boolean }): Promise<void>;
}

/**
 * Named sequences. On the ESP32 auto-reset circuit RTS drives EN (reset) and DTR drives IO0
 * (boot mode), both inverted: "true" pulls the pin low.
 */
export const DTR_RTS_SEQUENCES: Record<string, DtrRtsStep[]> = {
  // Reset into the application: EN pulsed low with IO0 left high (esptool's HardReset).
  esp32: [{ dtr: false }, { rts: true }, { delayMs: 100 }, { rts: false }],
  // Reset into the ROM download mode, step for step esptool's ClassicReset.
  "esp32-bootloader": [
    { dtr: false },
    { rts: true },
    { delayMs: 100 },
    { dtr: true },
    { rts: false },
    { delayMs: 50 },
    { dtr: false },
  ],
  // Arduino-style: DTR is AC-coupled to RESET, so a drop and rise of DTR resets (as avrdude does).
  "pulse-dtr": [{ dtr: false, rts: false }, { delayMs: 250 }, { dtr: true, rts: true }, { delayMs: 50 }],
};

export function resolveSequence(sequence: string | DtrRtsStep[]): DtrRtsStep[] {
  if (typeof sequence !== "string") return sequence;
  const steps = DTR_RTS_SEQUENCES[sequence];
  if (!steps) {
    throw new ScenarioError(
      `reset: unknown DTR/RTS sequence "${sequence}" (known: ${Object.keys(DTR_RTS_SEQUENCES).join(", ")}, or a list of {dtr, rts, delayMs} steps)`,
    );
  }
  return steps;
}

export class DtrRtsReset implements ResetProtocol {
  private readonly steps: DtrRtsStep[];

  constructor(
    private readonly lines: ModemLines,
    sequence: string | DtrRtsStep[],
  ) {
    this.steps = resolveSequence(sequence);
  }

  async reset(): Promise<void> {
    // The OS asserts both lines when it opens the port.
    const state = { dtr: true, rts: true };
    for (const step of this.steps) {
      if (step.dtr !== undefined || step.rts !== undefined) {
        if (step.dtr !== undefined) state.dtr = step.dtr;
        if (step.rts !== undefined) state.rts = step.rts;
        await this.lines.setSignals({ ...state });
      }
      if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    }
  }
}
