// A board whose console, power and reset the harness runs itself (a virtual board's program, a
// QEMU guest). Its own module so each kind's starter (qemu-boards.ts) and the rig session that
// calls them do not import each other.
import type { PowerProtocol, ResetProtocol, WriteReportProtocol } from "../board/types.ts";

export interface ManagedBoard {
  consolePort: string;
  power: PowerProtocol;
  reset: ResetProtocol;
  /** board fields it adds (${boards.<b>.flash_dir}, ${boards.<b>.disk}) */
  fields: Record<string, string>;
  /** its flash writes, page by page, where the board reports them */
  writes?: WriteReportProtocol;
}
