// QEMU boards in a rig session: started (powered off) with the session, stopped with it.
import { join } from "node:path";
import { startQemuBoard } from "../board/qemu/qemu-board.ts";
import { REPO_ROOT } from "../board/virtual/paths.ts";
import type { BoardSpec } from "../scenario/types.ts";
import type { ManagedBoard } from "./managed-board.ts";

/** The QEMU board's flasher (`{node} {qemu_flasher} --disk {board.disk} {image}` in a rig). */
export const QEMU_FLASHER_PROGRAM = join(REPO_ROOT, "devices", "qemu", "flasher.ts");

export async function startQemu(
  spec: BoardSpec,
  workDir: string,
  log: (line: string) => void,
  cleanups: Array<() => Promise<void>>,
  uplink: () => string | undefined,
): Promise<ManagedBoard> {
  const q = spec.qemu!;
  const board = await startQemuBoard({
    name: spec.name,
    serialNumber: spec.serialNumber,
    workDir,
    memoryMb: q.memoryMb,
    flashDelayUs: q.flashDelayUs,
    diskWriteBps: q.diskWriteBps,
    uplink,
    onOutput: log,
  });
  cleanups.push(() => board.stop());
  return { consolePort: board.consolePort, power: board.power, reset: board.reset, fields: { disk: board.disk } };
}
