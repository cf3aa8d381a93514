// Where locks live. By default one directory for every user of the host (/var/lock/otarig), so a
// CI user and an engineer at the bench see each other's locks. It is made like /var/lock itself:
// world-writable and sticky (anyone may take a lock; only its owner, or root, may remove it). If
// it cannot be made or written, a per-user directory is used, with a warning (`rig doctor` flags it).
import { accessSync, chmodSync, constants, mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const SHARED_LOCK_DIR = "/var/lock/otarig";

export interface LockDirChoice {
  dir: string;
  /** true when it is the per-user fallback: other users' runs do not see these locks */
  perUser: boolean;
  /** why the shared directory was not used */
  warning?: string;
}

export function perUserLockDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "otarig", "locks");
}

/**
 * The rig's `lock_dir` when it sets one; else the shared directory (made if missing; the
 * OTARIG_LOCK_DIR environment variable names another); else the per-user one, with a warning.
 */
export function chooseLockDir(rigLockDir?: string, shared = process.env.OTARIG_LOCK_DIR || SHARED_LOCK_DIR): LockDirChoice {
  if (rigLockDir) return { dir: rigLockDir, perUser: false };
  const problem = prepareShared(shared);
  if (!problem) return { dir: shared, perUser: false };
  return {
    dir: perUserLockDir(),
    perUser: true,
    warning: `locks are per user (${perUserLockDir()}): ${problem}; runs of other users on this host will not see them. Fix: sudo mkdir -p ${shared} && sudo chmod 1777 ${shared}`,
  };
}

/** Makes the shared directory if needed; returns why it cannot be used, or undefined. */
function prepareShared(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
    const st = statSync(dir);
    // Ours (just made): open it to every user, sticky, whatever the umask did to it.
    if (st.uid === process.getuid?.() && (st.mode & 0o1777) !== 0o1777) chmodSync(dir, 0o1777);
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    return `${dir} is not usable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}
