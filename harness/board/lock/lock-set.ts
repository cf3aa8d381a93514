// All the locks of a run, taken in one global order (sorted by key): two runs that need the same
// things, named in any order, never hold one each while waiting for the other.
import { InfraError } from "../../core/errors.ts";
import type { LockKey } from "./lock-keys.ts";
import { PhysicalLock, type AcquireOptions, type LeftBehindTool } from "./lock-file.ts";

export interface LockSet {
  keys: LockKey[];
  release(): Promise<void>;
  /** Keeps every lock, marked with the tools that outlived SIGKILL, for the next run to report. */
  keepMarked(leftBehind: LeftBehindTool[]): Promise<void>;
}

export async function acquireAll(
  keys: LockKey[],
  options: AcquireOptions & { dir: string; owner?: string; ttlMs?: number; onLost?: (err: InfraError) => void },
): Promise<LockSet> {
  const unique = new Map<string, LockKey>();
  for (const k of keys) if (!unique.has(k.key)) unique.set(k.key, k);
  const ordered = [...unique.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const held: PhysicalLock[] = [];
  const release = async () => {
    for (const lock of held.reverse()) await lock.release();
  };
  const deadline = performance.now() + options.timeoutMs;
  try {
    for (const k of ordered) {
      const lock = new PhysicalLock({
        key: k.key,
        what: k.what,
        dir: options.dir,
        ...(options.owner ? { owner: options.owner } : {}),
        ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
        ...(options.onLost ? { onLost: options.onLost } : {}),
      });
      // One budget for the whole set: --lock-timeout is how long the run waits in all.
      await lock.acquire({ ...options, timeoutMs: Math.max(0, deadline - performance.now()) });
      held.push(lock);
    }
  } catch (err) {
    await release();
    throw err instanceof InfraError ? err : new InfraError(`locking: ${(err as Error).message}`, { cause: err });
  }
  const keepMarked = async (leftBehind: LeftBehindTool[]) => {
    for (const lock of held) await lock.keepMarked(leftBehind);
  };
  return { keys: ordered, release, keepMarked };
}

/**
 * Runs `fn` while holding the lock on `key` (a relay module's port while one switch goes out):
 * held for milliseconds, so waits are short.
 */
export async function withShortLock<T>(key: string, what: string, dir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const lock = new PhysicalLock({ key, what, dir });
  await lock.acquire({ timeoutMs, pollMs: 10 });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
