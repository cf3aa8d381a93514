// A live board of a run as steps see it: its driver, its rig entry and its profile. A module of
// its own so the parts that watch or set up boards (fatal watch, rig session, isolation, hold)
// need not import the step context, which imports them.
import type { Board } from "../board/types.ts";
import type { BoardProfile, BoardSpec } from "../scenario/types.ts";

export interface BoardHandle {
  board: Board;
  spec: BoardSpec;
  profile: BoardProfile;
  /** an isolated virtual board's namespace and veth addresses */
  network?: { namespace: string; hostAddress: string; boardAddress: string; reachOnly(address: string, port: number): Promise<void> };
}
