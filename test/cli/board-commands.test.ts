// rig power / reset / flash / console / doctor as a user runs them: subprocesses against the
// virtual rig (real PTYs, the real virtual board program, the emulated relay).
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { PhysicalLock } from "../../harness/board/lock/lock-file.ts";
import { chooseLockDir } from "../../harness/board/lock/lock-dir.ts";
import { ROOT, processesMentioning, rig, tempDir, useOwnCacheDir } from "./helpers.ts";

const cache = useOwnCacheDir();

const RIG = "rigs/virtual.yaml";
const BASE = "fixtures/firmware/app-1.0.0.bin";
const BANNER = /boot: slot=A version=1\.0\.0 sha256=[0-9a-f]{64}/;

async function flashBase(): Promise<void> {
  const out = tempDir();
  const r = await rig(["flash", RIG, "dut", BASE, "--out", out]);
  expect(r.exitCode, r.all).toBe(0);
  expect(r.all).toMatch(/dut: flashing 100%/);
  expect(r.all).toContain(`logs in ${out}/`);
  expect(readFileSync(join(out, "run.log"), "utf8")).toMatch(/dut flasher: .*Writing at 0x/);
}

function hasScript(): boolean {
  try {
    accessSync("/usr/bin/script", constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

describe("board commands (subprocess, virtual rig)", () => {
  it("rig flash, then rig power on shows the boot of the flashed version", async () => {
    await flashBase();
    const out = tempDir();
    const r = await rig(["power", RIG, "dut", "on", "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`dut \\| ${BANNER.source}`));
    expect(r.stdout).toContain("powered off as the command exits");
    expect(r.stdout).toContain(`logs in ${out}/`);
    expect(readFileSync(join(out, "dut.log"), "utf8")).toMatch(BANNER);
    // The virtual bench is gone with the command: no board program, no socat left behind.
    expect(await processesMentioning(cache)).toEqual([]);
  });

  it("rig console with piped stdin: sends the line, prints the answer, logs it, exits at stdin end", async () => {
    await flashBase();
    const out = tempDir();
    const child = rig(["console", RIG, "dut", "--out", out]);
    child.stdin!.end("status\n");
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    const status = /status slot=A version=1\.0\.0 sha256=[0-9a-f]{64}/;
    expect(r.stdout).toMatch(status);
    expect(r.stdout).toMatch(BANNER); // powered on at start (a virtual board)
    expect(r.stderr).toContain(`logs in ${out}/`);
    const log = readFileSync(join(out, "dut.log"), "utf8");
    expect(log).toMatch(status);
    expect(log).toMatch(/ota> status/); // the board's echo of what was typed
    expect(await processesMentioning(cache)).toEqual([]);
  });

  it("rig console on a virtual board with an empty flash says so, and what to do (rig flash)", async () => {
    // a fresh cache: this board was never flashed
    const child = rig(["console", RIG, "dut", "--out", tempDir()], { env: { XDG_CACHE_HOME: tempDir("otarig-empty-cache-") } });
    child.stdin!.end("status\n");
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain("[boot] no bootable image");
    expect(r.stderr).toContain(`rig console: the flash of dut is empty: it boots nothing and typing does nothing; flash an image first: rig flash ${RIG} dut <image>`);
  });

  it("rig console on a flashed virtual board gives no empty-flash hint", async () => {
    await flashBase();
    const child = rig(["console", RIG, "dut", "--out", tempDir()]);
    child.stdin!.end("");
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).not.toContain("is empty");
  });

  it.skipIf(!hasScript())("rig console on a terminal: raw keys to the board, its answer on screen, Ctrl-] exits", async () => {
    await flashBase();
    const out = tempDir();
    // util-linux `script` gives the command a pseudo-terminal as stdin/stdout and relays our pipe to it.
    const command = [process.execPath, "--import", "tsx", join(ROOT, "harness/cli/main.ts"), "console", RIG, "dut", "--out", out]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(" ");
    const child = execa("script", ["-qfec", command, "/dev/null"], { cwd: ROOT, reject: false, all: true, timeout: 60_000, env: { NO_COLOR: "1" } });
    let screen = "";
    const waitFor = (re: RegExp, what: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(screen)) {
            clearTimeout(timer);
            child.all!.off("data", onData);
            resolve();
          }
        };
        const onData = (chunk: Buffer) => {
          screen += chunk.toString();
          check();
        };
        const timer = setTimeout(() => {
          child.all!.off("data", onData);
          reject(new Error(`no ${what} on the terminal within 30s:\n${screen}`));
        }, 30_000);
        child.all!.on("data", onData);
        check();
      });
    await waitFor(/ota> $/m, "prompt");
    child.stdin!.write("status\r"); // Enter on a raw terminal is CR
    await waitFor(/status slot=A version=1\.0\.0/, "status answer");
    child.stdin!.write("\x1d");
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain("Ctrl-] exits");
    expect(readFileSync(join(out, "dut.log"), "utf8")).toMatch(/status slot=A version=1\.0\.0/);
    expect(await processesMentioning(cache)).toEqual([]);
  });

  it("rig reset exits 0 and the board log shows two boots", async () => {
    await flashBase();
    const out = tempDir();
    const r = await rig(["reset", RIG, "dut", "--out", out]);
    expect(r.exitCode, r.all).toBe(0);
    const log = readFileSync(join(out, "dut.log"), "utf8");
    expect(log.match(new RegExp(BANNER.source, "g"))?.length, log).toBe(2);
  });

  it("rig power on a board the rig does not have: exit 2 with a did-you-mean, nothing touched", async () => {
    const out = tempDir();
    const r = await rig(["power", RIG, "dutt", "on", "--out", out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toMatch(/no board "dutt", did you mean "dut"\?/);
    expect(existsSync(join(out, "dut.log"))).toBe(false);
  });

  it("rig power waits for a board locked by a live process, then exits 3 naming the holder", async () => {
    // What a board command locks of a virtual board: its flash folder (under this file's cache).
    const key = `virtual:${join(cache, "otarig", "virtual", "virtual", "dut")}`;
    const lock = new PhysicalLock({ key, what: "test holder", dir: chooseLockDir().dir, owner: "bench-commands test" });
    await lock.acquire({ timeoutMs: 5000 });
    try {
      const out = tempDir();
      const r = await rig(["power", RIG, "dut", "on", "--lock-timeout", "1s", "--out", out]);
      expect(r.exitCode, r.all).toBe(3);
      expect(r.stderr).toMatch(/waiting for lock on virtual board dut \(rig virtual\) held by PID \d+/);
      expect(r.stderr).toMatch(new RegExp(`locked by PID ${process.pid} \\(\\S+\\) on \\S+ since \\S+ \\(bench-commands test\\); gave up after`));
    } finally {
      await lock.release();
    }
  });

  it("rig doctor rigs/virtual.yaml: exit 0, socat ok", async () => {
    const r = await rig(["doctor", RIG]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+socat\s+\S*socat/m);
    expect(r.stdout).toMatch(/^ok\s+board dut\s+virtual board/m);
    expect(r.stdout).toMatch(/^(ok\s+lock dir\s+\S+ \(shared by every user of this host\)|warn\s+lock dir\s+locks are per user)/m);
  });

  it("rig doctor with a rig naming a missing port: exit 3 naming the port", async () => {
    const dir = tempDir();
    const rigFile = join(dir, "missing-port.rig.yaml");
    writeFileSync(
      rigFile,
      [
        "name: doctor-missing-port",
        "boards:",
        "  dut:",
        "    serial_number: NOPE-2",
        `    profile: ${JSON.stringify(join(ROOT, "fixtures/profiles/virtual-board.yaml"))}`,
        "    console: { port: /dev/otarig-missing }",
        "",
      ].join("\n"),
    );
    const r = await rig(["doctor", rigFile]);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.stdout).toMatch(/^FAIL\s+board dut\s+console \/dev\/otarig-missing is missing/m);
  });
});
