// Isolated virtual boards in a rig session: the machine is checked and stale namespaces of
// killed runs are removed once, then each board gets its namespace, removed with the session.
import { createIsolatedNetwork, removeStaleNetworks, requireNetnsSupport, type IsolatedNetwork } from "../board/network/netns.ts";

export type { IsolatedNetwork };

export async function prepareIsolation(log: (line: string) => void): Promise<void> {
  await requireNetnsSupport();
  await removeStaleNetworks({ onLog: log });
}

/** Makes the board's namespace; its removal runs after the board program's stop (cleanups run in reverse). */
export async function isolateBoard(board: string, cleanups: Array<() => Promise<void>>, log: (line: string) => void): Promise<IsolatedNetwork> {
  const network = await createIsolatedNetwork({ onLog: log });
  cleanups.push(() => network.remove());
  log(`isolated in network namespace ${network.namespace}: board ${network.boardAddress}, host side ${network.hostAddress} (${network.hostInterface})`);
  return network;
}
