// Isolated virtual boards in a rig session: the machine is checked and stale namespaces of
// killed runs are removed once, then each board gets its namespace, removed with the session.
import { createIsolatedNetwork, removeStaleNetworks, requireNetnsSupport, type IsolatedNetwork } from "../board/network/netns.ts";
import type { BoardHandle } from "./board-handle.ts";

/** What isolation needs of a rig session while it opens: its clean-ups (torn down in reverse). */
interface Opening {
  cleanups: Array<() => Promise<void>>;
}

/** Each opening session's namespaces, by board. */
const sessions = new WeakMap<Opening, Map<string, IsolatedNetwork>>();

export async function prepareIsolation(log: (line: string) => void): Promise<void> {
  await requireNetnsSupport();
  await removeStaleNetworks({ onLog: log });
}

/**
 * Makes the board's namespace and returns how to start its program inside it. Its removal is
 * pushed before the board program's stop, so it runs after it (clean-ups run in reverse).
 */
export async function isolate(o: Opening, board: string, log: (line: string) => void): Promise<{ commandPrefix: string[] }> {
  const network = await createIsolatedNetwork();
  o.cleanups.push(() => network.remove());
  let boards = sessions.get(o);
  if (!boards) sessions.set(o, (boards = new Map()));
  boards.set(board, network);
  log(`isolated in network namespace ${network.namespace} (owner PID ${process.pid}): board ${network.boardAddress}, host side ${network.hostAddress} (${network.hostInterface})`);
  return { commandPrefix: network.exec };
}

/** The board's namespace and addresses for its handle (nothing for a board that is not isolated). */
export function isolationOf(o: Opening, board: string): Pick<BoardHandle, "network"> {
  const n = sessions.get(o)?.get(board);
  return n ? { network: { namespace: n.namespace, hostAddress: n.hostAddress, boardAddress: n.boardAddress, reachOnly: n.reachOnly } } : {};
}
