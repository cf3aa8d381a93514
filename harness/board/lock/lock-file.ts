// One lock on one physical thing (a serial port, a relay channel, …), as a file in the lock
// directory, named after the thing, never after a rig or board name.
//
// - Taking it is atomic and never shows half a file: the record is written to a temporary file
//   that is then hard-linked to the lock's name (link fails if the name exists).
// - A holder on this host is alive while its PID runs with the same process start time (a PID
//   reused by another process does not keep a dead lock alive) and the host has not rebooted.
//   A holder on another host (a shared lock dir on NFS) renews a lease; it is stale once the
//   lease is older than its TTL.
// - Taking over a stale lock is atomic too: under a short "takeover" lock, the file is compared
//   with what was judged stale and, only if unchanged, replaced by the new record in one rename.
//   The file is never missing on the way, so however many take part, one wins and every other
//   finds it changed. Release, lease renewal and marking go through the same takeover lock, so
//   none of them can overwrite or delete a lock someone else has taken meanwhile.
// - A holder whose renewal finds the lock taken (its lease ran out, or it was removed) is told.
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
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
  /** called (once) when a renewal finds the lock is no longer ours */
  onLost?: (err: InfraError) => void;
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
  private readonly mutex: string;
  private record: LockRecord | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LockOptions) {
    this.file = join(options.dir, lockFileName(options.key));
    this.mutex = `${this.file}.takeover`;
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
        if (why && (await this.takeOver(seen.raw))) {
          options.onTakeover?.(seen.record ? describeHolder(seen.record) : "an unreadable lock file", why);
          return;
        }
        if (!why && seen.record && seen.raw !== waitedFor) {
          waitedFor = seen.raw;
          options.onWait?.(describeHolder(seen.record), seen.record, { key: this.options.key, what: this.options.what });
        }
        if (why) continue; // someone else took it over first, or it changed: look again
      }
      const elapsed = performance.now() - started;
      if (elapsed >= options.timeoutMs) {
        const who = seen?.record ? describeHolder(seen.record) : "an unreadable lock file";
        throw new InfraError(
          `${this.options.what} (${this.options.key}) is locked by ${who}; gave up after ${formatDuration(elapsed)} (lock file ${this.file})`,
        );
      }
      if (options.signal?.aborted) throw new InfraError(`stopped while waiting for the lock on ${this.options.what} (${this.options.key})`);
      await sleep(Math.min(options.pollMs ?? 200, Math.max(1, options.timeoutMs - elapsed)));
    }
  }

  /** Removes the lock file, but only if it is still ours. */
  async release(): Promise<void> {
    const mine = this.record;
    if (!mine) return;
    this.stopHolding();
    await this.underMutex(() => {
      if (isSameHolder(readLockFile(this.file)?.record, mine)) unlinkSync(this.file);
    });
  }

  /**
   * Leaves the lock in place, marked with the tools that outlived SIGKILL: whoever comes next
   * waits while they run and is told why, then takes it over with a warning once they are gone.
   */
  async keepMarked(leftBehind: LeftBehindTool[]): Promise<void> {
    const mine = this.record;
    if (!mine) return;
    this.stopHolding();
    await this.underMutex(() => {
      if (isSameHolder(readLockFile(this.file)?.record, mine)) this.replace({ ...mine, renewed: new Date().toISOString(), leftBehind });
    });
  }

  private stopHolding(): void {
    this.record = undefined;
    clearInterval(this.renewTimer);
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
    if (created) this.startHolding(record);
    return created;
  }

  private startHolding(record: LockRecord): void {
    this.record = record;
    this.renewTimer = setInterval(() => void this.renew(), Math.max(1000, record.ttlMs / 3));
    this.renewTimer.unref();
  }

  /**
   * The lease: rewrite our record every TTL/3 while we hold it. A lock that is no longer ours
   * (taken over after our lease ran out, or removed by hand) is lost: the holder is told.
   */
  private async renew(): Promise<void> {
    const mine = this.record;
    if (!mine) return;
    const now = await this.underMutex(() => {
      const seen = readLockFile(this.file);
      if (isSameHolder(seen?.record, mine)) this.replace({ ...mine, renewed: new Date().toISOString() });
      return seen;
    });
    if (now === undefined || this.record !== mine) return; // takeover lock busy: the next renewal tries again
    if (isSameHolder(now?.record, mine)) {
      mine.renewed = now!.record!.renewed;
      return;
    }
    this.stopHolding();
    const by = now?.record ? `it was taken over by ${describeHolder(now.record)}` : "its lock file was removed";
    this.options.onLost?.(new InfraError(`lost the lock on ${this.options.what} (${this.options.key}): ${by}; this run no longer has the hardware to itself`));
  }

  /**
   * Takes over the lock file if its content is still `staleRaw`: under the takeover lock, our
   * record replaces it in one rename. The file never goes missing on the way, so nobody can
   * create a fresh lock meanwhile, and whoever judged the same stale content next finds it changed.
   */
  private async takeOver(staleRaw: string): Promise<boolean> {
    const record = this.newRecord();
    const took = await this.underMutex(() => {
      if (readRaw(this.file) !== staleRaw) return false;
      this.replace(record);
      return true;
    });
    if (took) this.startHolding(record);
    return took === true;
  }

  /** Replaces the lock file's content in one rename. */
  private replace(record: LockRecord): void {
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o644 });
    try {
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EPERM" || code === "EACCES") {
        throw new InfraError(
          `${this.options.what}: the stale lock ${this.file} belongs to another user and the lock directory is sticky; ` +
            `remove it as that user or root (rig locks lists it)`,
        );
      }
      throw err;
    }
  }

  /**
   * Runs `fn` under the takeover lock (held for microseconds: a read and a rename). Undefined
   * when it stayed busy for 2 s. A takeover lock whose taker died holding it is broken.
   */
  private async underMutex<T>(fn: () => T): Promise<T | undefined> {
    const deadline = performance.now() + 2000;
    while (!linkNew(this.mutex, `${process.pid} ${processStartTime(process.pid) ?? ""} ${hostname()}\n`)) {
      breakDeadMutex(this.mutex);
      if (performance.now() > deadline) return undefined;
      await sleep(2);
    }
    try {
      return fn();
    } finally {
      rmSync(this.mutex, { force: true });
    }
  }
}

function isSameHolder(r: LockRecord | undefined, mine: LockRecord): boolean {
  return r !== undefined && r.pid === mine.pid && r.host === mine.host && r.since === mine.since;
}

function readRaw(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Removes a takeover lock whose taker is gone (a process on this host that no longer runs), or
 * one older than 10 s (another host's). Only if it still holds what was judged dead.
 */
function breakDeadMutex(mutex: string): void {
  const raw = readRaw(mutex);
  if (raw === undefined) return;
  const [pid, start, host] = raw.trim().split(" ");
  let dead: boolean;
  if (host === hostname() && pid) {
    dead = !isSameProcess(Number(pid), start ? Number(start) : undefined);
  } else {
    try {
      dead = Date.now() - statSync(mutex).mtimeMs > 10_000;
    } catch {
      return;
    }
  }
  if (!dead) return;
  const grave = `${mutex}.${process.pid}.${randomBytes(4).toString("hex")}.gone`;
  try {
    renameSync(mutex, grave);
  } catch {
    return; // gone meanwhile
  }
  // A live taker's fresh one moved by mistake goes back (link: never over a newer one).
  if (readRaw(grave) !== raw) {
    try {
      linkSync(grave, mutex);
    } catch {
      // another one is there already
    }
  }
  rmSync(grave, { force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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


function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "?");
  }
}
