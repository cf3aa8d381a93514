// rig doctor's checks of boards reached over the network: a console URL's host answers; a
// labgrid board's coordinator answers, its place exists and whether it is free.
import { probeConsoleUrl } from "../board/console/network/probe.ts";
import { checkLabgridPlace } from "../lab/labgrid/doctor.ts";
import type { RigSpec } from "../scenario/types.ts";

type Add = (level: "ok" | "warn" | "FAIL", what: string, detail: string) => void;

export async function checkRemoteBoards(rig: RigSpec, add: Add): Promise<void> {
  for (const board of Object.values(rig.boards)) {
    const what = `board ${board.name}`;
    if (board.console.url) {
      const probe = await probeConsoleUrl(board.console.url);
      add(probe.ok ? "ok" : "FAIL", what, probe.detail);
    }
    if (board.labgrid) {
      const check = await checkLabgridPlace(board.labgrid);
      add(!check.ok ? "FAIL" : check.held ? "warn" : "ok", what, `labgrid ${check.detail}`);
    }
  }
}
