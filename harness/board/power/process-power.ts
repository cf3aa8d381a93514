// Power for a board that is a process on this host (a virtual board's program, a QEMU guest):
// on starts it, off kills it wherever it is (as a cut supply would), cycle is both with a pause.
import { setTimeout as sleep } from "node:timers/promises";
import type { PowerProtocol } from "../types.ts";

export function processPower(process: { start(): Promise<void>; kill(): Promise<void> }): PowerProtocol {
  return {
    on: () => process.start(),
    off: () => process.kill(),
    cycle: async (offMs) => {
      await process.kill();
      await sleep(offMs);
      await process.start();
    },
  };
}
