// Which labgrid places otarig holds, on this machine: one small record per reservation, next to
// the board lock files. The coordinator is the lock; the record is how a later run (or `rig
// locks`) knows that a place is held by an otarig run, by which process, and that it may free it
// once that process is gone (killed with SIGKILL, so its teardown never ran).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { chooseLockDir } from "../../board/lock/lock-dir.ts";

export interface HeldPlace {
  coordinator: string;
  /** LG_USERNAME it is held under */
  user: string;
  client: string;
  token: string;
  /** set once acquired */
  place?: string;
  /** what was asked for: `name=virt1` or tags */
  filter: Record<string, string>;
  pid: number;
  host: string;
  since: string;
}

export interface HeldPlaceEntry extends HeldPlace {
  file: string;
  /** whether the process that holds it still runs (always true for another host's record) */
  alive: boolean;
}

function recordDir(lockDir?: string): string {
  return join(chooseLockDir(lockDir).dir, "labgrid");
}

function recordFile(lockDir: string | undefined, held: Pick<HeldPlace, "coordinator" | "token">): string {
  return join(recordDir(lockDir), `${held.coordinator.replace(/[^\w.-]/g, "_")}-${held.token}.json`);
}

export function writeHeldPlace(lockDir: string | undefined, held: HeldPlace): string {
  mkdirSync(recordDir(lockDir), { recursive: true });
  const file = recordFile(lockDir, held);
  writeFileSync(file, `${JSON.stringify(held, null, 2)}\n`);
  return file;
}

export function removeHeldPlace(file: string): void {
  rmSync(file, { force: true });
}

/** The labgrid places otarig runs hold (or held, when `alive` is false: to be freed at the next start). */
export function listHeldPlaces(lockDir?: string): HeldPlaceEntry[] {
  let names: string[];
  try {
    names = readdirSync(recordDir(lockDir)).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const out: HeldPlaceEntry[] = [];
  for (const name of names) {
    const file = join(recordDir(lockDir), name);
    try {
      const held = JSON.parse(readFileSync(file, "utf8")) as HeldPlace;
      out.push({ ...held, file, alive: held.host !== hostname() || processAlive(held.pid) });
    } catch {
      // half-written by a process killed mid-write: nothing to free
    }
  }
  return out;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
