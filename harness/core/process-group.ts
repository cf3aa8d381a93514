// Process groups, read from /proc: every external program the harness starts runs in its own
// group, so stopping it means stopping everything it forked (a flasher's helper, a shell's
// children), and "is it gone?" means "is any live member of the group left?".
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcStat {
  pid: number;
  state: string;
  pgid: number;
  /** clock ticks after boot: with the PID, it names one process (PIDs are reused, this pair is not) */
  startTime: number;
}

/** /proc/<pid>/stat, or undefined when the process does not exist. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { pid, state: rest[0] ?? "?", pgid: Number(rest[2]), startTime: Number(rest[19]) };
}

/** The start time of a process (see ProcStat), or undefined when it does not exist. */
export function processStartTime(pid: number): number | undefined {
  return procStat(pid)?.startTime;
}

/** True when `pid` runs and is the same process that had `startTime` (not a reused PID). */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  const stat = procStat(pid);
  if (!stat || stat.state === "Z") return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat && stat.pgid === pgid && stat.state !== "Z") members.push(stat.pid);
  }
  return members;
}

export interface StopReport {
  /** how the group ended: it was already gone, went on SIGTERM, or needed SIGKILL */
  how: "gone" | "SIGTERM" | "SIGKILL" | "survived";
  /** ms from SIGTERM until the group was empty */
  tookMs: number;
  /** members seen when stopping began */
  pids: number[];
}

/**
 * Stops a whole process group: SIGTERM, up to `graceMs` for it to go, then SIGKILL, and waits
 * until no live member is left (at most `killWaitMs` after SIGKILL; "survived" says it did not
 * go, which only an uninterruptible sleep in the kernel explains).
 */
export async function stopGroup(pgid: number, graceMs: number, killWaitMs = 5000): Promise<StopReport> {
  const started = performance.now();
  if (!groupProbe.exists(pgid)) return { how: "gone", tookMs: 0, pids: [] };
  const pids = groupProbe.members(pgid);
  if (pids.length === 0) return { how: "gone", tookMs: 0, pids };
  signalGroup(pgid, "SIGTERM");
  if (await waitEmpty(pgid, graceMs)) return { how: "SIGTERM", tookMs: Math.round(performance.now() - started), pids };
  signalGroup(pgid, "SIGKILL");
  const gone = await waitEmpty(pgid, killWaitMs);
  return { how: gone ? "SIGKILL" : "survived", tookMs: Math.round(performance.now() - started), pids };
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // no member left to signal
  }
}

/**
 * kill(-pgid, 0): does any process, zombies included, still carry the group's id? Cheap; a scan
 * of /proc (milliseconds, and it blocks) is only needed to tell live members from zombies.
 */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * How the harness tells whether a group is gone. A seam for tests: a process in uninterruptible
 * sleep (D state: a hung USB transfer, a dead NFS server), which not even SIGKILL ends, cannot be
 * made on demand; a test replaces these to play one.
 */
export const groupProbe = { exists: groupExists, members: groupMembers };

/** Live members of the group, as far as the probe tells. */
export function liveMembers(pgid: number): number[] {
  return groupProbe.exists(pgid) ? groupProbe.members(pgid) : [];
}

async function waitEmpty(pgid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  let lastScan = -Infinity;
  for (;;) {
    if (!groupProbe.exists(pgid)) return true;
    // Only zombies left (their parent has not reaped them yet) counts as gone too.
    if (performance.now() - lastScan >= 250) {
      lastScan = performance.now();
      if (groupProbe.members(pgid).length === 0) return true;
    }
    if (performance.now() >= deadline) return false;
    await sleep(25);
  }
}
