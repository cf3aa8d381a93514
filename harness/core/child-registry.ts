// Nothing the harness starts may outlive it. Every child (server process, board programs, relay
// emulator, socat, tools) runs in its own process group and is recorded here. While a CLI
// command runs, the record is a state file (one line per group: PGID, start time, what) and a
// tiny shell watchdog, in its own group, polls the harness: when the harness is gone (even by
// SIGKILL, where no exit handler runs) the watchdog stops every group in the file. If the
// watchdog itself was killed, the next start finds the dead harness's file and does the same.
// Start times make it safe against PID reuse: a group is signalled only if its leader is the
// very process that was recorded.
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { isSameProcess, liveMembers, processStartTime, signalGroup, stopGroup } from "./process-group.ts";

interface Tracked {
  pgid: number;
  startTime: number;
  what: string;
}

const tracked = new Map<number, Tracked>();
let stateFile: string | undefined;

export function defaultChildStateDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "otarig", "children");
}

/** Records a child that leads its own process group; the returned function forgets it. */
export function trackChild(pgid: number, what: string): () => void {
  const startTime = processStartTime(pgid);
  if (startTime === undefined) return () => {};
  tracked.set(pgid, { pgid, startTime, what: what.replace(/\s+/g, " ") });
  save();
  return () => {
    if (tracked.get(pgid)?.startTime !== startTime) return;
    tracked.delete(pgid);
    save();
  };
}

/** A tool's process group that did not go even on SIGKILL (a process in D state). */
export interface LeftBehind {
  pgid: number;
  /** what it was for: "flasher of board dut" */
  what: string;
  /** its members when it was given up on */
  pids: number[];
}

const leftBehind = new Map<number, LeftBehind>();

/**
 * Records a group that outlived SIGKILL. It stays tracked (the watchdog and the next start still
 * try to stop it); while it runs, the run is not retried and its locks are kept, marked.
 */
export function noteLeftBehind(group: LeftBehind): void {
  leftBehind.set(group.pgid, group);
}

/** The groups given up on that still have a live member (one may end late, once the kernel lets go). */
export function leftBehindGroups(): LeftBehind[] {
  for (const pgid of leftBehind.keys()) if (liveMembers(pgid).length === 0) leftBehind.delete(pgid);
  return [...leftBehind.values()];
}

export interface Reaped {
  owner: string;
  what: string;
  pgid: number;
}

/**
 * Turns the registry on for this process: stops what dead harnesses left (returned, for a
 * warning), writes this process's state file and starts its watchdog.
 */
export async function startChildRegistry(dir = defaultChildStateDir()): Promise<Reaped[]> {
  mkdirSync(dir, { recursive: true });
  const reaped = await reapLeftovers(dir);
  const myStart = processStartTime(process.pid);
  stateFile = join(dir, `${process.pid}-${myStart}.children`);
  save();
  const watchdog = spawn("sh", ["-c", WATCHDOG, "otarig-watchdog", String(process.pid), String(myStart), stateFile], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();
  process.once("exit", () => {
    // Children still recorded (a second Ctrl-C skipped teardown): the watchdog, seeing us gone,
    // stops them. Else a clean exit: the watchdog has nothing to do.
    if (tracked.size > 0) return;
    if (watchdog.pid !== undefined) signalGroup(watchdog.pid, "SIGKILL");
    if (stateFile) rmSync(stateFile, { force: true });
  });
  return reaped;
}

/** Stops the groups recorded by harnesses that are no longer running, and removes their files. */
export async function reapLeftovers(dir = defaultChildStateDir()): Promise<Reaped[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".children"));
  } catch {
    return [];
  }
  const reaped: Reaped[] = [];
  for (const name of names) {
    const [pid, start] = name.replace(/\.children$/, "").split("-").map(Number);
    if (pid === undefined || isSameProcess(pid, start)) continue; // its harness still runs
    const file = join(dir, name);
    for (const entry of readEntries(file)) {
      if (!isSameProcess(entry.pgid, entry.startTime)) continue;
      reaped.push({ owner: `PID ${pid}`, what: entry.what, pgid: entry.pgid });
    }
    rmSync(file, { force: true });
  }
  // Side by side, each SIGTERM, a 2 s grace, then SIGKILL, and back only once each group is gone.
  await Promise.all(reaped.map((r) => stopGroup(r.pgid, 2000)));
  return reaped;
}

function readEntries(file: string): Tracked[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((line) => line.split(" "))
    .filter((f) => f.length >= 2 && /^\d+$/.test(f[0]!) && /^\d+$/.test(f[1]!))
    .map((f) => ({ pgid: Number(f[0]), startTime: Number(f[1]), what: f.slice(2).join(" ") }));
}

function save(): void {
  if (!stateFile) return;
  const text = [...tracked.values()].map((t) => `${t.pgid} ${t.startTime} ${t.what}\n`).join("");
  // Write-then-rename: the watchdog never reads half a file.
  const tmp = `${stateFile}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, stateFile);
}

// $1 harness PID, $2 its start time, $3 the state file. Exits when the file goes (clean exit);
// when the harness is gone, stops every recorded group whose leader is still the same process.
// Reads /proc with shell builtins only: the poll forks nothing but its sleep.
const WATCHDOG = `
st() { st_=; read -r l_ < "/proc/$1/stat" || return 0; l_=\${l_##*) }; set -- \$l_; shift 19; st_=\$1; }
while [ -f "$3" ]; do st "$1" 2>/dev/null; [ "\$st_" = "$2" ] || break; sleep 0.5; done
[ -f "$3" ] || exit 0
groups=
while read -r pgid start rest; do
  st "\$pgid" 2>/dev/null
  if [ "\$st_" = "\$start" ]; then groups="\$groups \$pgid"; kill -TERM "-\$pgid" 2>/dev/null; fi
done < "$3"
sleep 2
for pgid in \$groups; do kill -KILL "-\$pgid" 2>/dev/null; done
rm -f "$3"
`;
