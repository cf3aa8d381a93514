// Locks on physical things: real lock files in a temp dir, real processes (a SIGKILLed holder,
// a PID reused by another process, two processes taking the same keys in opposite order).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { PhysicalLock, lockFileName, type LockRecord } from "../../harness/board/lock/lock-file.ts";
import { boardLockKeys } from "../../harness/board/lock/lock-keys.ts";
import { processStartTime } from "../../harness/core/process-group.ts";
import { InfraError } from "../../harness/core/errors.ts";
import type { BoardSpec } from "../../harness/board/spec.ts";
import { tempDir } from "./helpers/pty.ts";

let tmp: ReturnType<typeof tempDir>;
const children: ChildProcess[] = [];
beforeEach(() => {
  tmp = tempDir("otarig-locks-");
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  tmp.cleanup();
});

/** A PID that certainly belongs to no process: one that just exited. */
function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}

function record(over: Partial<LockRecord>): LockRecord {
  const now = new Date().toISOString();
  return { key: "port:/dev/ttyUSB9", what: "console of board x", pid: process.pid, host: hostname(), user: "ci", since: now, renewed: now, ttlMs: 60_000, owner: "nightly job", ...over };
}

function plant(key: string, r: Partial<LockRecord>): string {
  const file = join(tmp.dir, lockFileName(key));
  writeFileSync(file, JSON.stringify(record({ key, ...r })));
  return file;
}

const lockOf = (key = "port:/dev/ttyUSB9") => new PhysicalLock({ key, what: "console of board dut", dir: tmp.dir, owner: "test" });

describe("PhysicalLock", () => {
  it("records the holder (PID, its start time, host, user) and removes only its own file", async () => {
    const lock = lockOf();
    await lock.acquire({ timeoutMs: 1000 });
    const info = JSON.parse(readFileSync(lock.file, "utf8"));
    expect(info).toMatchObject({ key: "port:/dev/ttyUSB9", pid: process.pid, startTime: processStartTime(process.pid), host: hostname(), owner: "test" });
    // Someone else's lock in its place must survive our release.
    writeFileSync(lock.file, JSON.stringify(record({ pid: 1, host: "other-host" })));
    await lock.release();
    expect(existsSync(lock.file)).toBe(true);
  });

  it("makes a second taker wait for a live holder, then proceed when it releases", async () => {
    const first = lockOf();
    const second = lockOf();
    await first.acquire({ timeoutMs: 1000 });
    const waits: string[] = [];
    const waiting = second.acquire({ timeoutMs: 10_000, pollMs: 20, onWait: (h) => waits.push(h) });
    await new Promise((r) => setTimeout(r, 200));
    expect(second.isHeld).toBe(false);
    expect(waits).toEqual([expect.stringContaining(`PID ${process.pid}`)]);
    await first.release();
    await waiting;
    expect(second.isHeld).toBe(true);
    await second.release();
    expect(readdirSync(tmp.dir)).toEqual([]); // no temp or takeover files left either
  });

  it("gives up after the timeout naming the thing and the holder", async () => {
    plant("port:/dev/ttyUSB9", { pid: process.ppid, startTime: processStartTime(process.ppid)!, owner: "nightly job" });
    const err = await lockOf().acquire({ timeoutMs: 200, pollMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(new RegExp(`console of board dut \\(port:/dev/ttyUSB9\\) is locked by PID ${process.ppid} \\(ci\\) on .* \\(nightly job\\); gave up after`));
  });

  it("takes over a lock whose PID is gone, saying so", async () => {
    const pid = deadPid();
    plant("port:/dev/ttyUSB9", { pid, startTime: 12345 });
    const takeovers: string[] = [];
    const lock = lockOf();
    await lock.acquire({ timeoutMs: 1000, onTakeover: (h, why) => takeovers.push(`${h}: ${why}`) });
    expect(takeovers).toEqual([expect.stringMatching(new RegExp(`^PID ${pid} .*: PID ${pid} is gone$`))]);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  it("takes over a lock whose PID was reused by another process (start time differs)", async () => {
    const other = spawn("sleep", ["30"]);
    children.push(other);
    await new Promise((r) => other.once("spawn", r));
    const realStart = processStartTime(other.pid!)!;
    plant("port:/dev/ttyUSB9", { pid: other.pid!, startTime: realStart - 100 });
    const takeovers: string[] = [];
    await lockOf().acquire({ timeoutMs: 1000, onTakeover: (_h, why) => takeovers.push(why) });
    expect(takeovers).toEqual([`PID ${other.pid} now belongs to another process (PID reused)`]);
  });

  it("a live process with the recorded start time keeps its lock", async () => {
    const other = spawn("sleep", ["30"]);
    children.push(other);
    await new Promise((r) => other.once("spawn", r));
    plant("port:/dev/ttyUSB9", { pid: other.pid!, startTime: processStartTime(other.pid!)! });
    await expect(lockOf().acquire({ timeoutMs: 150, pollMs: 20 })).rejects.toThrow(`PID ${other.pid}`);
  });

  it("another host's lock holds while its lease is fresh and is taken over once it expires", async () => {
    const fresh = new Date().toISOString();
    plant("port:/dev/ttyUSB9", { pid: deadPid(), host: "runner-7", renewed: fresh, ttlMs: 60_000 });
    await expect(lockOf().acquire({ timeoutMs: 150, pollMs: 20 })).rejects.toThrow(/runner-7/);
    const old = new Date(Date.now() - 120_000).toISOString();
    plant("port:/dev/ttyUSB9", { pid: deadPid(), host: "runner-7", renewed: old, ttlMs: 60_000 });
    const why: string[] = [];
    await lockOf().acquire({ timeoutMs: 1000, onTakeover: (_h, w) => why.push(w) });
    expect(why[0]).toMatch(/lease was last renewed 2m\d*.* ago \(TTL 1m/);
  });

  it("renews its lease while held, so other hosts see it alive", async () => {
    const lock = new PhysicalLock({ key: "port:/dev/ttyUSB9", what: "x", dir: tmp.dir, ttlMs: 1500 });
    await lock.acquire({ timeoutMs: 1000 });
    const first = JSON.parse(readFileSync(lock.file, "utf8"));
    await new Promise((r) => setTimeout(r, 1300)); // renewals every TTL/3, at least 1 s apart
    const later = JSON.parse(readFileSync(lock.file, "utf8"));
    expect(later.since).toBe(first.since);
    expect(Date.parse(later.renewed)).toBeGreaterThan(Date.parse(first.renewed));
    await lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });

  it("takes over the lock of a holder killed with SIGKILL", async () => {
    const lockModule = resolve(import.meta.dirname, "../../harness/board/lock/lock-file.ts");
    const code = `
      import { PhysicalLock } from ${JSON.stringify(lockModule)};
      await new PhysicalLock({ key: "port:/dev/ttyUSB9", what: "x", dir: ${JSON.stringify(tmp.dir)}, owner: "child run" }).acquire({ timeoutMs: 5000 });
      console.log("locked");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("child did not take the lock within 20s")), 20_000);
      child.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && (clearTimeout(timer), ok()));
      child.once("exit", () => fail(new Error("child exited early")));
    });
    const lock = lockOf();
    await expect(lock.acquire({ timeoutMs: 200, pollMs: 20 })).rejects.toThrow(`PID ${child.pid}`);
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const takeovers: string[] = [];
    await lock.acquire({ timeoutMs: 2000, onTakeover: (h, why) => takeovers.push(`${h}: ${why}`) });
    expect(takeovers[0]).toContain(`PID ${child.pid}`);
    expect(takeovers[0]).toContain("child run");
    await lock.release();
  });

  it("a holder whose lock was taken notices at its next renewal, with an infrastructure error naming the new holder", async () => {
    const lost: Error[] = [];
    const lock = new PhysicalLock({ key: "port:/dev/ttyUSB9", what: "console of board dut", dir: tmp.dir, owner: "test", ttlMs: 3000, onLost: (e) => lost.push(e) });
    await lock.acquire({ timeoutMs: 1000 });
    // Another run took it over (say our lease ran out while this host was suspended).
    writeFileSync(lock.file, JSON.stringify(record({ pid: process.ppid, startTime: processStartTime(process.ppid)!, owner: "the other run" })));
    const deadline = Date.now() + 5000;
    while (lost.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(InfraError);
    expect(lost[0]!.message).toMatch(new RegExp(`^lost the lock on console of board dut \\(port:/dev/ttyUSB9\\): it was taken over by PID ${process.ppid} .*\\(the other run\\)`));
    expect(lock.isHeld).toBe(false);
    // The renewal did not write over the new holder's record, and our release leaves it alone.
    await lock.release();
    expect(JSON.parse(readFileSync(lock.file, "utf8")).owner).toBe("the other run");
  });

  it("a lock kept marked with a tool that outlived SIGKILL holds while the tool runs, then is taken over with a warning", async () => {
    // The tool "left behind" by a run whose harness has gone: a live process group of its own.
    const tool = spawn("sleep", ["30"], { detached: true });
    children.push(tool);
    await new Promise((r) => tool.once("spawn", r));
    const leftBehind = [{ pgid: tool.pid!, what: "flasher of board dut", pids: [tool.pid!] }];
    // As the run left it: its holder marks it instead of releasing it.
    const holder = lockOf();
    await holder.acquire({ timeoutMs: 1000 });
    await holder.keepMarked(leftBehind);
    await holder.release(); // a no-op now: the mark stays
    const marked = JSON.parse(readFileSync(holder.file, "utf8")) as LockRecord;
    expect(marked.leftBehind).toEqual(leftBehind);
    // ... and its harness is gone.
    writeFileSync(holder.file, JSON.stringify({ ...marked, pid: deadPid() }));

    const err = await lockOf().acquire({ timeoutMs: 200, pollMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(new RegExp(`which left running after SIGKILL: flasher of board dut \\(process group ${tool.pid}: ${tool.pid}\\); gave up after`));

    const exited = new Promise((r) => tool.once("exit", r));
    tool.kill("SIGKILL");
    await exited;
    const takeovers: string[] = [];
    const next = lockOf();
    await next.acquire({ timeoutMs: 1000, onTakeover: (_h, why) => takeovers.push(why) });
    expect(takeovers).toEqual([expect.stringMatching(/is gone; what it left running after SIGKILL has ended since: flasher of board dut/)]);
    await next.release();
  });

  it("many processes racing for one stale lock: exactly one holds it at any time", async () => {
    plant("port:/dev/ttyUSB9", { pid: deadPid(), startTime: 1 });
    const journal = join(tmp.dir, "journal");
    const lockModule = resolve(import.meta.dirname, "../../harness/board/lock/lock-file.ts");
    const code = `
      import { appendFileSync } from "node:fs";
      import { PhysicalLock } from ${JSON.stringify(lockModule)};
      for (let i = 0; i < 5; i++) {
        const lock = new PhysicalLock({ key: "port:/dev/ttyUSB9", what: "x", dir: ${JSON.stringify(tmp.dir)} });
        await lock.acquire({ timeoutMs: 30000, pollMs: 5 });
        appendFileSync(${JSON.stringify(journal)}, "in " + process.pid + "\\n");
        await new Promise((r) => setTimeout(r, 10));
        appendFileSync(${JSON.stringify(journal)}, "out " + process.pid + "\\n");
        await lock.release();
      }
    `;
    const racers = Array.from({ length: 4 }, () => spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: "inherit" }));
    children.push(...racers);
    const codes = await Promise.all(racers.map((c) => new Promise<number | null>((r) => c.once("exit", r))));
    expect(codes).toEqual([0, 0, 0, 0]);
    const lines = readFileSync(journal, "utf8").trim().split("\n");
    expect(lines).toHaveLength(40);
    for (let i = 0; i < lines.length; i += 2) {
      // every "in" is followed by the same process's "out": nobody else was inside meanwhile
      expect(lines[i + 1], lines.join("\n")).toBe(lines[i]!.replace(/^in/, "out"));
    }
  });
});

describe("takeover races", () => {
  it("N racers in processes, each holder crashing (its lock goes stale): every takeover leaves exactly one holder", async () => {
    const racers = 8;
    const rounds = 5;
    const dead = deadPid();
    plant("port:/dev/ttyUSB9", { pid: dead, startTime: 1 });
    const journal = join(tmp.dir, "journal");
    const lockModule = resolve(import.meta.dirname, "../../harness/board/lock/lock-file.ts");
    // A holder "crashes": its record is replaced (atomically) by a fresh one of a dead PID, so
    // every round is a takeover of a stale lock by everyone still waiting.
    const code = `
      import { appendFileSync, renameSync, writeFileSync } from "node:fs";
      import { PhysicalLock } from ${JSON.stringify(lockModule)};
      for (let i = 0; i < ${rounds}; i++) {
        const lock = new PhysicalLock({ key: "port:/dev/ttyUSB9", what: "x", dir: ${JSON.stringify(tmp.dir)}, onLost: () => {} });
        await lock.acquire({ timeoutMs: 60000, pollMs: 1 });
        appendFileSync(${JSON.stringify(journal)}, "in " + process.pid + "\\n");
        await new Promise((r) => setTimeout(r, 5));
        appendFileSync(${JSON.stringify(journal)}, "out " + process.pid + "\\n");
        const stale = { key: "port:/dev/ttyUSB9", what: "x", pid: ${dead}, startTime: 1, host: ${JSON.stringify(hostname())}, user: "ci", since: process.pid + "-" + i, renewed: "", ttlMs: 60000, owner: "crashed" };
        writeFileSync(lock.file + ".crash" + process.pid, JSON.stringify(stale));
        renameSync(lock.file + ".crash" + process.pid, lock.file);
      }
      process.exit(0);
    `;
    const procs = Array.from({ length: racers }, () => spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: "inherit" }));
    children.push(...procs);
    const codes = await Promise.all(procs.map((c) => new Promise<number | null>((r) => c.once("exit", r))));
    expect(codes).toEqual(Array(racers).fill(0));
    const lines = readFileSync(journal, "utf8").trim().split("\n");
    expect(lines).toHaveLength(racers * rounds * 2);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i + 1], `line ${i + 2} of:\n${lines.join("\n")}`).toBe(lines[i]!.replace(/^in/, "out"));
    }
  }, 120_000);
});

describe("lock keys", () => {
  const board = (over: Partial<BoardSpec>): BoardSpec => ({
    name: "dut",
    serialNumber: "1",
    profile: "/p.yaml",
    console: { baud: 115200, reconnectTimeoutMs: 1000 },
    extra: {},
    pos: { file: "x", line: 1, col: 1 },
    ...over,
  });

  it("name the device a port leads to and the relay module's port, never a rig or board name", async () => {
    mkdirSync(join(tmp.dir, "by-id"));
    writeFileSync(join(tmp.dir, "ttyUSB0"), "");
    writeFileSync(join(tmp.dir, "ttyUSB1"), "");
    symlinkSync(join(tmp.dir, "ttyUSB0"), join(tmp.dir, "by-id", "usb-CP2102-port0"));
    symlinkSync(join(tmp.dir, "ttyUSB1"), join(tmp.dir, "by-id", "usb-1a86-relay"));
    const relays = { r1: { type: "lcus" as const, port: join(tmp.dir, "by-id", "usb-1a86-relay"), channels: 2, baud: 9600 } };
    const viaLink = await boardLockKeys(board({ console: { port: join(tmp.dir, "by-id", "usb-CP2102-port0"), baud: 115200, reconnectTimeoutMs: 1 }, power: { relay: "r1", channel: 1 } }), { rigName: "bench-3", relays });
    const direct = await boardLockKeys(board({ name: "other", console: { port: join(tmp.dir, "ttyUSB0"), baud: 9600, reconnectTimeoutMs: 1 } }), { rigName: "copy-of-bench-3", relays });
    expect(viaLink.map((k) => k.key)).toEqual([`port:${join(tmp.dir, "ttyUSB0")}`, `relay:${join(tmp.dir, "ttyUSB1")}#1`]);
    expect(direct.map((k) => k.key)).toEqual([`port:${join(tmp.dir, "ttyUSB0")}`]); // same port, other rig and name: same lock
    expect(viaLink[1]!.what).toBe("power of board dut (rig bench-3): relay r1 channel 1");
  });

  it("a virtual board in a run locks nothing; its flash folder when it outlives the run", async () => {
    const spec = board({ virtual: { config: {} }, power: { virtual: true } });
    expect(await boardLockKeys(spec, { rigName: "virtual", relays: {} })).toEqual([]);
    expect((await boardLockKeys(spec, { rigName: "virtual", relays: {}, virtualDir: "/cache/v" })).map((k) => k.key)).toEqual(["virtual:/cache/v/dut"]);
  });

  it("name a network console by resolved address and port: a host name and its IP, tcp:// and rfc2217://, are one key", async () => {
    const keyOf = async (url: string) => (await boardLockKeys(board({ console: { url, baud: 115200, reconnectTimeoutMs: 1 } }), { rigName: "lab", relays: {} }))[0]!.key;
    const keys = await Promise.all(["rfc2217://localhost:4001", "tcp://127.0.0.1:4001", "tcp://LOCALHOST:4001"].map(keyOf));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toBe("netconsole:127.0.0.1:4001");
    expect(await keyOf("tcp://127.0.0.1:4002")).not.toBe(keys[0]); // another port is another serial line
  });

  it("name a command relay by its resolved program path and channel, however the rig spells it", async () => {
    mkdirSync(join(tmp.dir, "rig", "tools"), { recursive: true });
    const tool = join(tmp.dir, "rig", "tools", "usb-relay.sh");
    writeFileSync(tool, "#!/bin/sh\n");
    const { chmodSync } = await import("node:fs");
    chmodSync(tool, 0o755);
    symlinkSync(tool, join(tmp.dir, "relay-link"));
    const command = (on: string[]) => ({ r1: { type: "command" as const, on, off: on, timeoutMs: 1000, channels: 4 } });
    const keyOf = async (on: string[], rigDir: string, channel = 2) =>
      (await boardLockKeys(board({ power: { relay: "r1", channel } }), { rigName: "x", relays: command(on), rigDir }))[0]!.key;
    const a = await keyOf(["./tools/usb-relay.sh", "{channel}", "on"], join(tmp.dir, "rig"));
    const b = await keyOf([tool, "--channel={channel}", "--on"], "/elsewhere");
    const c = await keyOf(["../relay-link", "{channel}"], join(tmp.dir, "rig"));
    expect(a).toBe(`relay:command:${tool}#2`);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await keyOf(["./tools/usb-relay.sh", "{channel}", "on"], join(tmp.dir, "rig"), 3)).not.toBe(a);
  });
});

describe("sticky shared lock dir", () => {
  // Needs root (to plant a lock as one user and take it over as another).
  it.skipIf(process.getuid?.() !== 0)("another user cannot remove a stale lock there, and is told what to do", async () => {
    const { chmodSync } = await import("node:fs");
    const shared = join(tmp.dir, "shared");
    mkdirSync(shared);
    chmodSync(tmp.dir, 0o755);
    chmodSync(shared, 0o1777);
    writeFileSync(join(shared, lockFileName("port:/dev/ttyUSB9")), JSON.stringify(record({ key: "port:/dev/ttyUSB9", pid: deadPid(), startTime: 1 })));
    const lockModule = resolve(import.meta.dirname, "../../harness/board/lock/lock-file.ts");
    const code = `
      import { PhysicalLock } from ${JSON.stringify(lockModule)};
      try {
        await new PhysicalLock({ key: "port:/dev/ttyUSB9", what: "console of board dut", dir: ${JSON.stringify(shared)} }).acquire({ timeoutMs: 2000 });
        console.log("TOOK IT");
      } catch (err) { console.log("ERROR " + err.message); }
    `;
    const other = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      encoding: "utf8",
      uid: 65534,
      gid: 65534,
      env: { ...process.env, HOME: "/tmp", XDG_CACHE_HOME: join(tmp.dir, "nobody-cache") },
      cwd: resolve(import.meta.dirname, "../.."),
      timeout: 30_000,
    });
    expect(other.stdout, other.stderr).toMatch(/^ERROR console of board dut: the stale lock .* belongs to another user and the lock directory is sticky; remove it as that user or root \(rig locks lists it\)/m);
  });
});

describe("lock dir", () => {
  it("is the shared directory, made world-writable and sticky; the rig's lock_dir wins", async () => {
    const { chooseLockDir } = await import("../../harness/board/lock/lock-dir.ts");
    const shared = join(tmp.dir, "var-lock-otarig");
    const choice = chooseLockDir(undefined, shared);
    expect(choice).toEqual({ dir: shared, perUser: false });
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    expect(chooseLockDir("/somewhere/locks", shared)).toEqual({ dir: "/somewhere/locks", perUser: false });
  });

  it("falls back to a per-user directory with a warning when the shared one cannot be made", async () => {
    const { chooseLockDir, perUserLockDir } = await import("../../harness/board/lock/lock-dir.ts");
    writeFileSync(join(tmp.dir, "not-a-dir"), "");
    const choice = chooseLockDir(undefined, join(tmp.dir, "not-a-dir", "otarig"));
    expect(choice.perUser).toBe(true);
    expect(choice.dir).toBe(perUserLockDir());
    expect(choice.warning).toMatch(/locks are per user .*not-a-dir\/otarig is not usable \(ENOTDIR\); runs of other users on this host will not see them/);
  });
});
