// One lock file per board, so two runs (two CI jobs, a developer and CI) never drive the same
// hardware at once. The file holds who has it; a holder that died (same host, PID gone) leaves
// a stale lock that the next run takes over with a warning instead of waiting forever.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { InfraError } from "../../core/errors.ts";
import { formatDuration } from "../../core/duration.ts";

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock */
  started: string;
  owner: string;
}

export interface BoardLockOptions {
  /** lock name: the board (the runner passes `<rig>.<board>`) */
  board: string;
  /** default: $XDG_CACHE_HOME/otarig/locks, else ~/.cache/otarig/locks */
  dir?: string;
  /** free text saying who holds it, e.g. "rig run scenarios/x.yaml" */
  owner?: string;
}

export interface AcquireOptions {
  timeoutMs: number;
  /** called once when a live holder makes us wait, with a description of the holder */
  onWait?: (holder: string, info: LockHolder) => void;
  /** called when a dead holder's lock is taken over */
  onTakeover?: (holder: string, info: LockHolder) => void;
  pollMs?: number;
}

export function defaultLockDir(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "otarig", "locks");
}

export function describeHolder(h: LockHolder): string {
  return `PID ${h.pid} on ${h.host} since ${h.started}${h.owner ? ` (${h.owner})` : ""}`;
}

export class BoardLock {
  readonly file: string;
  private readonly me: LockHolder;
  private held = false;

  constructor(private readonly options: BoardLockOptions) {
    const dir = options.dir ?? defaultLockDir();
    this.file = join(dir, `${options.board.replace(/[^\w.-]/g, "_")}.lock`);
    this.me = {
      pid: process.pid,
      host: hostname(),
      started: "",
      owner: options.owner ?? process.argv.slice(1).join(" "),
    };
  }

  get isHeld(): boolean {
    return this.held;
  }

  async acquire(options: AcquireOptions): Promise<void> {
    if (this.held) return;
    mkdirSync(join(this.file, ".."), { recursive: true });
    const started = performance.now();
    let waitedFor: LockHolder | undefined;
    for (;;) {
      if (this.tryCreate()) return;
      const holder = this.readHolder();
      if (holder && isDead(holder)) {
        // Remove only if it is still the same stale file, then race for it like everyone else.
        if (this.removeIfUnchanged(holder)) options.onTakeover?.(describeHolder(holder), holder);
        continue;
      }
      if (!holder) {
        // Being written right now, or garbage: give its writer a moment, then treat it as stale.
        if (!this.unreadableSince) this.unreadableSince = performance.now();
        else if (performance.now() - this.unreadableSince > 2000) {
          this.removeQuietly();
          this.unreadableSince = 0;
          continue;
        }
      } else {
        this.unreadableSince = 0;
        if (!waitedFor || waitedFor.pid !== holder.pid || waitedFor.host !== holder.host) {
          waitedFor = holder;
          options.onWait?.(describeHolder(holder), holder);
        }
      }
      const elapsed = performance.now() - started;
      if (elapsed >= options.timeoutMs) {
        const who = holder ? describeHolder(holder) : "an unreadable lock file";
        throw new InfraError(
          `board ${this.options.board} is locked by ${who}; gave up after ${formatDuration(elapsed)} (lock file ${this.file})`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 250, options.timeoutMs - elapsed)));
    }
  }

  /** Removes the lock file, but only if it is still ours (never someone else's). */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const holder = this.readHolder();
    if (holder && holder.pid === this.me.pid && holder.host === this.me.host && holder.started === this.me.started) {
      this.removeQuietly();
    }
  }

  private unreadableSince = 0;

  private tryCreate(): boolean {
    const me = { ...this.me, started: new Date().toISOString() };
    try {
      // "wx": create only if absent, atomically; whoever creates it holds the lock.
      writeFileSync(this.file, `${JSON.stringify(me)}\n`, { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw new InfraError(`cannot create lock file ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    this.me.started = me.started;
    this.held = true;
    return true;
  }

  private readHolder(): LockHolder | undefined {
    try {
      const h = JSON.parse(readFileSync(this.file, "utf8")) as Partial<LockHolder>;
      if (typeof h.pid !== "number" || typeof h.host !== "string") return undefined;
      return { pid: h.pid, host: h.host, started: String(h.started ?? "?"), owner: String(h.owner ?? "") };
    } catch {
      return undefined;
    }
  }

  private removeIfUnchanged(stale: LockHolder): boolean {
    const now = this.readHolder();
    if (!now || now.pid !== stale.pid || now.host !== stale.host || now.started !== stale.started) return false;
    this.removeQuietly();
    return true;
  }

  private removeQuietly(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}

/** A holder on this host whose process no longer exists. Holders on other hosts are never judged dead. */
function isDead(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
