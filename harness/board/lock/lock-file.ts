// One lock on one physical thing (a serial port, a relay channel, …), as a file in the lock
// directory, named after the thing, never after a rig or board name.
//
// - Taking it is atomic and never shows half a file: the record is written to a temporary file
//   that is then hard-linked to the lock's name (link fails if the name exists).
// - A holder on this host is alive while its PID runs with the same process start time (a PID
//   reused by another process does not keep a dead lock alive) and the host has not rebooted.
//   A holder on another host (a shared lock dir on NFS) renews a lease; it is stale once the
//   lease is older than its TTL.
// - Taking over a stale lock is atomic too: under a short "takeover" lock, the stale file is
//   renamed away and compared with what was judged stale; had it changed (a fresh lock), it is
//   linked back. A fresh lock is never deleted by a read-then-unlink race.
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { InfraError } from "../../core/errors.ts";
import { formatDuration } from "../../core/duration.ts";
import { isSameProcess, liveMembers, procStat, processStartTime } from "../../core/process-group.ts";

export interface LockRecord {
  /** the physical thing: "port:/dev/ttyUSB0", "relay:/dev/ttyUSB1#2" */
  key: string;
  /** in words: "console of board dut (rig bench-3)" */
  what: string;
  pid: number;
  /** the holder's process start time (clock ticks after boot, /proc/<pid>/stat) */
  startTime?: number;
  bootId?: string;
  host: string;
  user: string;
  /** ISO time the lock was taken */
  since: string;
  /** ISO time the lease was last renewed */
  renewed: string;
  ttlMs: number;
  /** free text: "rig run scenarios/x.yaml" */
  owner: string;
  /** tools of the holder's run that outlived SIGKILL: the lock is kept while any of them runs */
  leftBehind?: LeftBehindTool[];
}

/** A tool's process group that did not go even on SIGKILL (see child-registry's noteLeftBehind). */
export interface LeftBehindTool {
  pgid: number;
  what: string;
  pids: number[];
}

export const DEFAULT_LEASE_TTL_MS = 60_000;

export interface LockOptions {
  key: string;
  what: string;
  dir: string;
  owner?: string;
  /** lease TTL (what another host waits before judging this lock stale); renewed every TTL/3 */
  ttlMs?: number;
}

export interface AcquireOptions {
  timeoutMs: number;
  /** called when a live holder makes us wait (once per holder), with what we wait for */
  onWait?: (holder: string, record: LockRecord, wanted: { key: string; what: string }) => void;
  /** called when a stale lock is taken over, with why it was stale */
  onTakeover?: (holder: string, why: string) => void;
  pollMs?: number;
  signal?: AbortSignal;
}

/** A file name for a key: readable, and unique (a short hash tells apart keys that read alike). */
export function lockFileName(key: string): string {
  const readable = key.replace(/[^\w.-]+/g, "_").replace(/^_+/, "").slice(-80);
  let h = 0;
  for (const c of key) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `${readable}.${h.toString(16).padStart(8, "0")}.lock`;
}

export function describeHolder(r: LockRecord): string {
  const left = r.leftBehind?.length ? `, which left running after SIGKILL: ${describeLeftBehind(r.leftBehind)}` : "";
  return `PID ${r.pid} (${r.user}) on ${r.host} since ${r.since}${r.owner ? ` (${r.owner})` : ""}${left}`;
}

function describeLeftBehind(groups: LeftBehindTool[]): string {
  return groups.map((g) => `${g.what} (process group ${g.pgid}: ${g.pids.join(", ")})`).join("; ");
}

export function readLockFile(file: string): { raw: string; record?: LockRecord } | undefined {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(raw) as Partial<LockRecord>;
    if (typeof r.pid !== "number" || typeof r.host !== "string") return { raw };
    return {
      raw,
      record: {
        key: String(r.key ?? ""),
        what: String(r.what ?? ""),
        pid: r.pid,
        ...(typeof r.startTime === "number" ? { startTime: r.startTime } : {}),
        ...(typeof r.bootId === "string" ? { bootId: r.bootId } : {}),
        host: r.host,
        user: String(r.user ?? "?"),
        since: String(r.since ?? (r as { started?: string }).started ?? "?"),
        renewed: String(r.renewed ?? r.since ?? ""),
        ttlMs: typeof r.ttlMs === "number" ? r.ttlMs : DEFAULT_LEASE_TTL_MS,
        owner: String(r.owner ?? ""),
        ...(Array.isArray(r.leftBehind) ? { leftBehind: r.leftBehind.filter((g) => typeof g?.pgid === "number") } : {}),
      },
    };
  } catch {
    return { raw };
  }
}

/** Why a holder no longer holds its lock, or undefined while it is alive. */
export function staleReason(r: LockRecord, now = Date.now()): string | undefined {
  if (r.host === hostname()) {
    if (r.bootId && bootId() && r.bootId !== bootId()) return "the host has rebooted since it was taken";
    // A tool that outlived SIGKILL holds the hardware whether or not its run is still there.
    if (r.leftBehind?.some((g) => liveMembers(g.pgid).length > 0)) return undefined;
    const ended = r.leftBehind?.length ? `; what it left running after SIGKILL has ended since: ${describeLeftBehind(r.leftBehind)}` : "";
    const stat = procStat(r.pid);
    if (!stat || stat.state === "Z") return `PID ${r.pid} is gone${ended}`;
    if (!isSameProcess(r.pid, r.startTime)) return `PID ${r.pid} now belongs to another process (PID reused)${ended}`;
    return undefined;
  }
  const renewed = Date.parse(r.renewed);
  if (Number.isNaN(renewed)) return undefined; // cannot tell: never judge another host's lock dead blindly
  const age = now - renewed;
  return age > r.ttlMs ? `its lease was last renewed ${formatDuration(age)} ago (TTL ${formatDuration(r.ttlMs)})` : undefined;
}

let cachedBootId: string | undefined;
function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      cachedBootId = "";
    }
  }
  return cachedBootId;
}

export class PhysicalLock {
  readonly file: string;
  private record: LockRecord | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LockOptions) {
    this.file = join(options.dir, lockFileName(options.key));
  }

  get key(): string {
    return this.options.key;
  }

  get isHeld(): boolean {
    return this.record !== undefined;
  }

  async acquire(options: AcquireOptions): Promise<void> {
    if (this.record) return;
    mkdirSync(this.options.dir, { recursive: true });
    const started = performance.now();
    let waitedFor = "";
    let garbageSince = 0;
    for (;;) {
      if (this.tryCreate()) return;
      const seen = readLockFile(this.file);
      if (seen) {
        const why = seen.record ? staleReason(seen.record) : garbageSince && performance.now() - garbageSince > 5000 ? "its lock file is unreadable" : undefined;
        if (!seen.record && !garbageSince) garbageSince = performance.now();
        if (why) {
          if (this.takeOver(seen.raw)) options.onTakeover?.(seen.record ? describeHolder(seen.record) : "an unreadable lock file", why);
          continue;
        }
        if (seen.record && seen.raw !== waitedFor) {
          waitedFor = seen.raw;
          options.onWait?.(describeHolder(seen.record), seen.record, { key: this.options.key, what: this.options.what });
        }
      }
      const elapsed = performance.now() - started;
      if (elapsed >= options.timeoutMs) {
        const who = seen?.record ? describeHolder(seen.record) : "an unreadable lock file";
        throw new InfraError(
          `${this.options.what} (${this.options.key}) is locked by ${who}; gave up after ${formatDuration(elapsed)} (lock file ${this.file})`,
        );
      }
      if (options.signal?.aborted) throw new InfraError(`stopped while waiting for the lock on ${this.options.what} (${this.options.key})`);
      await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 200, Math.max(1, options.timeoutMs - elapsed))));
    }
  }

  /** Removes the lock file, but only if it is still ours. */
  async release(): Promise<void> {
    const mine = this.record;
    if (!mine) return;
    this.record = undefined;
    clearInterval(this.renewTimer);
    // Only if it is still ours; the takeover lock may be busy for a moment: try again.
    for (let attempt = 0; attempt < 50; attempt++) {
      const now = readLockFile(this.file);
      if (!(now?.record && now.record.pid === mine.pid && now.record.host === mine.host && now.record.since === mine.since)) return;
      if (this.takeOver(now.raw)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Leaves the lock in place, marked with the tools that outlived SIGKILL: whoever comes next
   * waits while they run and is told why, then takes it over with a warning once they are gone.
   */
  keepMarked(leftBehind: LeftBehindTool[]): void {
    const mine = this.record;
    if (!mine) return;
    this.record = undefined;
    clearInterval(this.renewTimer);
    const now = readLockFile(this.file);
    if (!(now?.record && now.record.pid === mine.pid && now.record.since === mine.since)) return;
    this.rewrite({ ...mine, renewed: new Date().toISOString(), leftBehind });
  }

  /** Replaces our lock file's content atomically (rename over it). */
  private rewrite(record: LockRecord): boolean {
    const tmp = `${this.file}.${process.pid}.renew`;
    try {
      writeFileSync(tmp, `${JSON.stringify(record)}\n`);
      renameSync(tmp, this.file);
      return true;
    } catch {
      return false;
    }
  }

  private newRecord(): LockRecord {
    const now = new Date().toISOString();
    return {
      key: this.options.key,
      what: this.options.what,
      pid: process.pid,
      ...(processStartTime(process.pid) !== undefined ? { startTime: processStartTime(process.pid)! } : {}),
      ...(bootId() ? { bootId: bootId() } : {}),
      host: hostname(),
      user: safeUser(),
      since: now,
      renewed: now,
      ttlMs: this.options.ttlMs ?? DEFAULT_LEASE_TTL_MS,
      owner: this.options.owner ?? process.argv.slice(1).join(" "),
    };
  }

  private tryCreate(): boolean {
    const record = this.newRecord();
    let created: boolean;
    try {
      created = linkNew(this.file, `${JSON.stringify(record)}\n`);
    } catch (err) {
      throw new InfraError(`cannot create lock file ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    if (!created) return false;
    this.record = record;
    this.startRenewing();
    return true;
  }

  /** The lease: rewrite our record (atomically, by rename) every TTL/3 while we hold it. */
  private startRenewing(): void {
    const ttl = this.record!.ttlMs;
    this.renewTimer = setInterval(() => {
      const mine = this.record;
      const now = readLockFile(this.file);
      if (!mine || now?.record?.pid !== mine.pid || now.record.since !== mine.since) return;
      mine.renewed = new Date().toISOString();
      this.rewrite(mine); // when it fails, the next renewal tries again; a lease is long
    }, Math.max(1000, ttl / 3));
    this.renewTimer.unref();
  }

  /**
   * Removes the lock file if its content is still `raw`, atomically: under the takeover lock,
   * rename it away, compare, and link it back if it had changed.
   */
  private takeOver(raw: string): boolean {
    const mutex = `${this.file}.takeover`;
    if (!linkNew(mutex, `${process.pid}\n`)) {
      // Held for microseconds; one older than 10 s belongs to a process that died holding it.
      try {
        if (Date.now() - statSync(mutex).mtimeMs > 10_000) moveAway(mutex);
      } catch {
        // gone meanwhile
      }
      return false;
    }
    try {
      const grave = `${this.file}.${process.pid}.${randomBytes(4).toString("hex")}.gone`;
      try {
        renameSync(this.file, grave);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return false;
        if (code === "EPERM" || code === "EACCES") {
          throw new InfraError(
            `${this.options.what}: the stale lock ${this.file} belongs to another user and the lock directory is sticky; ` +
              `remove it as that user or root (rig locks lists it)`,
          );
        }
        throw err;
      }
      let moved = "";
      try {
        moved = readFileSync(grave, "utf8");
      } catch {
        // unreadable: treat as changed and put it back
      }
      if (moved === raw) {
        unlinkSync(grave);
        return true;
      }
      try {
        linkSync(grave, this.file); // a fresh lock slipped in: put it back
      } catch {
        // the name was taken again meanwhile; the one we moved is lost either way
      }
      unlinkSync(grave);
      return false;
    } finally {
      try {
        unlinkSync(mutex);
      } catch {
        // already gone
      }
    }
  }
}

/** Creates `file` with `text` only if it does not exist, never visible half-written. */
function linkNew(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

function moveAway(file: string): void {
  const grave = `${file}.${process.pid}.gone`;
  renameSync(file, grave);
  unlinkSync(grave);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "?");
  }
}
