// The virtual board end to end: real socat PTY pair, real board process, real HTTP server.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../../devices/firmware-image.ts";
import { startVirtualBoard, type VirtualBoard } from "../../harness/board/virtual/virtual-board.ts";
import { ConsoleReader, FakeOtaServer, FIRMWARE, runFlasher } from "./helpers.ts";

const V100 = join(FIRMWARE, "app-1.0.0.bin");
const V110 = join(FIRMWARE, "app-1.1.0.bin");
const BANNER = /^boot: slot=(?<slot>[AB]) version=(?<version>\S+) sha256=(?<sha>[0-9a-f]{64}) trial=(?<trial>[01])$/;

let workDir: string;
let board: VirtualBoard | undefined;
let con: ConsoleReader | undefined;
let server: FakeOtaServer | undefined;
let output: string[];

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), "otarig-vb-"));
  output = [];
});

afterEach(async () => {
  await con?.close();
  await board?.stop();
  await server?.stop();
  con = undefined;
  board = undefined;
  server = undefined;
  rmSync(workDir, { recursive: true, force: true });
});

/** A port nothing listens on (fetch refuses "bad" ports such as 1, so take a real one). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, "127.0.0.1", ok));
  const { port } = probe.address() as AddressInfo;
  await new Promise((ok) => probe.close(ok));
  return port;
}

async function bringUp(config?: Record<string, unknown>): Promise<{ board: VirtualBoard; con: ConsoleReader }> {
  board = await startVirtualBoard({ name: "dut", serialNumber: "VB-TEST-1", workDir, ...(config ? { config } : {}), onOutput: (l) => output.push(l) });
  con = await ConsoleReader.open(board.consolePort);
  return { board, con };
}

/** Flashes 1.0.0, powers on, waits for the prompt, points the board at a fresh fake server. */
async function bootedOnServer(config?: Record<string, unknown>) {
  const { board, con } = await bringUp(config);
  expect((await runFlasher(board.flashDir, V100)).code).toBe(0);
  await board.power.on();
  await con.expect(BANNER);
  await con.prompt();
  server = new FakeOtaServer();
  const url = await server.start();
  await con.run(`set server ${url}`, /^ok server$/);
  await con.run("set firmware_id 7", /^ok firmware_id$/);
  return { board, con, server };
}

describe("virtual board", () => {
  it("boots the flashed image and prints the banner of docs/virtual-board.md", async () => {
    const { board, con } = await bringUp();
    const flashed = await runFlasher(board.flashDir, V100);
    expect(flashed.code).toBe(0);
    expect(flashed.stdout).toMatch(/Writing at 0x00000000\.\.\. \(\d+ %\)/);
    expect(flashed.stdout).toContain("(100 %)");
    expect(flashed.stdout).toContain("Wrote 262272 bytes");
    expect(flashed.stdout).toContain("Hash of data verified.");

    await board.power.on();
    await con.expect(/^\[boot\] otarig virtual bootloader$/);
    await con.expect(/^\[boot\] checking slot A$/);
    const m = await con.expect(BANNER);
    expect(m.groups).toMatchObject({ slot: "A", version: "1.0.0", sha: sha256(readFileSync(V100)), trial: "0" });
    await con.prompt();
    await con.run("status", new RegExp(`^status slot=A version=1\\.0\\.0 sha256=${sha256(readFileSync(V100))} trial=0 activated=no$`));
    await con.run("frobnicate now", /^error: unknown command 'frobnicate now'$/);
    await con.run("set colour blue", /^error: unknown setting 'colour'/);

    // Flashing again (board running or not) and a power cycle boot the new image.
    expect((await runFlasher(board.flashDir, V110)).code).toBe(0);
    const since = con.mark();
    await board.power.cycle(50);
    const again = await con.expect(BANNER, { since });
    expect(again.groups).toMatchObject({ slot: "A", version: "1.1.0", sha: sha256(readFileSync(V110)) });
  });

  it("says so and shows no prompt when there is no bootable image", async () => {
    const { board, con } = await bringUp();
    await board.power.on();
    await con.expect(/^\[boot\] slot A invalid: empty, falling back to slot B$/);
    await con.expect(/^\[boot\] no bootable image$/);
    con.send("status");
    await new Promise((r) => setTimeout(r, 300));
    expect(con.pending).toBe("");
    expect(con.lines.some((l) => l.startsWith("status"))).toBe(false);
  });

  it("keeps settings across a power cycle and honours config overrides", async () => {
    const { board, con } = await bringUp({ prompt: "dev$ ", messages: { banner: "APP {version} on {slot}" }, vendor: "acme" });
    await runFlasher(board.flashDir, V100);
    await board.power.on();
    await con.expect(/^APP 1\.0\.0 on A$/);
    await con.run("set model m1", /^ok model$/);
    const cycled = con.mark();
    await board.power.cycle(20);
    await con.expect(/^APP 1\.0\.0 on A$/, { since: cycled });
    expect(JSON.parse(readFileSync(join(board.flashDir, "nvs.json"), "utf8"))).toEqual({ model: "m1" });
  });

  it("checks, downloads (resuming after a power cut), installs on trial, and reverts when not confirmed", async () => {
    const { board, con, server } = await bootedOnServer();
    const target = server.offer(readFileSync(V110));
    await con.run("check", new RegExp(`^update available hash=${target}$`));
    expect(server.checks[0]).toMatchObject({ hash: sha256(readFileSync(V100)) });
    expect(server.checks[0]!.headers).toMatchObject({ "x-ota-firmware-id": "7", "x-ota-device-id": "VB-TEST-1" });

    // Cut the power in the middle of the download (the server stalls there until the cut).
    server.stallAfterBytes = 128 * 1024;
    const since = con.send("download");
    await con.expect(/^download progress [2-9]\d% /, { since });
    await board.power.off();
    const part = statSync(join(board.flashDir, "download.part")).size;
    expect(part).toBeGreaterThan(0);

    // After power-on the download resumes from the bytes already in flash.
    await board.power.on();
    await con.prompt();
    const resumed = con.send("download");
    const offset = Number((await con.expect(/^download resume offset=(\d+)$/, { since: resumed }))[1]);
    expect(offset).toBe(part);
    await con.expect(new RegExp(`^download done sha256=${target}$`), { since: resumed });
    expect(server.ranges).toEqual(["", `bytes=${offset}-`]);

    const installing = con.send("install");
    await con.expect(/^install progress \d+%$/, { since: installing });
    await con.expect(/^install done slot=B$/, { since: installing });
    await con.expect(/^rebooting$/, { since: installing });
    const trial = await con.expect(BANNER, { since: installing });
    expect(trial.groups).toMatchObject({ slot: "B", version: "1.1.0", sha: target, trial: "1" });
    await con.prompt();
    // A trial boot is not a success: that waits for confirm (Mender's commit, hawkBit's closed action).
    expect(server.statuses.map((s) => s.state)).toEqual(["downloading", "downloading", "installing", "rebooting", "trial"]);
    expect(server.statuses.at(-1)).toMatchObject({ hash: target, running: target });

    // A reset without confirm: the bootloader reverts to the old slot and says so.
    const resetAt = con.mark();
    await board.reset.reset();
    await con.expect(/^\[boot\] slot B was not confirmed, reverting to slot A$/, { since: resetAt });
    const reverted = await con.expect(BANNER, { since: resetAt });
    expect(reverted.groups).toMatchObject({ slot: "A", version: "1.0.0", trial: "0" });
    await con.prompt();
    // The revert report names the image the board runs again, so the server can follow it.
    expect(server.statuses.at(-1)).toMatchObject({ hash: target, state: "failure", running: sha256(readFileSync(V100)) });
  });

  it("keeps a confirmed update across resets", async () => {
    const { board, con, server } = await bootedOnServer();
    const target = server.offer(readFileSync(V110));
    await con.run("check", /^update available/);
    await con.run("download", /^download done/);
    const installing = con.send("install");
    await con.expect(BANNER, { since: installing });
    await con.prompt();
    expect(server.statuses.at(-1)).toMatchObject({ hash: target, state: "trial" });
    await con.run("confirm", /^confirmed slot=B$/);
    await con.prompt();
    expect(server.statuses.at(-1)).toMatchObject({ hash: target, state: "success", running: target });
    const resetAt = con.mark();
    await board.reset.reset();
    const after = await con.expect(BANNER, { since: resetAt });
    expect(after.groups).toMatchObject({ slot: "B", version: "1.1.0", sha: target, trial: "0" });
    await con.prompt();
    await con.run("check", /^up to date$/);
  });

  it("falls back from a slot torn by a power cut during install, saying so", async () => {
    const { board, con, server } = await bootedOnServer({ flash_chunk_delay_ms: 250 });
    const target = server.offer(readFileSync(V110));
    await con.run("check", /^update available/);
    await con.run("download", /^download done/);
    const installing = con.send("install");
    await con.expect(/^install progress [3-9]\d%$/, { since: installing });
    await board.power.off();
    expect(statSync(join(board.flashDir, "slot-b.bin")).size).toBeLessThan(readFileSync(V110).length);

    const on = con.mark();
    await board.power.on();
    await con.expect(/^\[boot\] checking slot B$/, { since: on });
    await con.expect(/^\[boot\] slot B invalid: .+, falling back to slot A$/, { since: on });
    const back = await con.expect(BANNER, { since: on });
    expect(back.groups).toMatchObject({ slot: "A", version: "1.0.0", trial: "0" });
    await con.prompt();
    expect(server.statuses.at(-1)).toMatchObject({ hash: target, state: "failure" });
  });

  it("refuses to install an image with a bad header or a corrupt payload", async () => {
    const { con, server } = await bootedOnServer();
    for (const [file, reason] of [
      ["app-1.1.0-corrupt.bin", "payload digest mismatch"],
      ["app-1.1.0-bad-header.bin", "bad magic"],
    ] as const) {
      const hash = server.offer(readFileSync(join(FIRMWARE, file)));
      await con.run("check", new RegExp(`^update available hash=${hash}$`));
      await con.run("download", /^download done/);
      await con.run("install", new RegExp(`^error: install refused: ${reason}$`));
      await con.prompt();
      await con.run("status", /^status slot=A version=1\.0\.0 /);
      expect(server.statuses.at(-1)).toMatchObject({ hash, state: "failure" });
    }
  });

  it("rejects bytes corrupted in flight: no download, nothing to install", async () => {
    const { board, con, server } = await bootedOnServer();
    server.offer(readFileSync(V110));
    server.corrupt = true;
    await con.run("check", /^update available/);
    await con.run("download", /^error: download failed: sha256 mismatch/);
    expect(existsSync(join(board.flashDir, "download.part"))).toBe(false);
    await con.run("install", /^error: install refused: no verified download/);
  });

  it("reports up to date, refusals and an unreachable server", async () => {
    const { con, server } = await bootedOnServer();
    await con.run("check", /^error: check failed: 404 FIRMWARE_NOT_UPLOADED$/);
    server.offer(readFileSync(V100));
    await con.run("check", /^up to date$/);
    server.allowedDevices = new Set(["someone-else"]);
    await con.run("check", /^error: check failed: 401 INVALID_AUTH$/);
    await con.run(`set server http://127.0.0.1:${await closedPort()}`, /^ok server$/);
    await con.run("check", /^error: check failed: network error: ECONNREFUSED$/);
  });

  it("activates, keeps the CIK in NVS and never prints it", async () => {
    const { board, con, server } = await bootedOnServer();
    await con.run("activate", /^error: activation failed: vendor and model must be set$/);
    await con.run("set vendor acme", /^ok vendor$/);
    await con.run("set model nope", /^ok model$/);
    await con.run("activate", /^error: activation failed: 404 unknown vendor\/model$/);
    await con.run("set model m1", /^ok model$/);
    await con.run("activate", /^activation ok$/);
    const cycled = con.mark();
    await board.power.cycle(20);
    await con.expect(BANNER, { since: cycled });
    await con.prompt();
    await con.run("status", /activated=yes$/);
    expect(JSON.parse(readFileSync(join(board.flashDir, "nvs.json"), "utf8"))).toMatchObject({ cik: server.cik });
    expect(con.lines.join("\n") + output.join("\n")).not.toContain(server.cik);
  });

  it("resumes by itself when the connection drops mid-download", async () => {
    const { con, server } = await bootedOnServer();
    const target = server.offer(readFileSync(V110));
    server.dropAfterBytes = 64 * 1024;
    await con.run("check", /^update available/);
    const since = con.send("download");
    const offset = Number((await con.expect(/^download resume offset=(\d+)$/, { since }))[1]);
    expect(offset).toBeGreaterThan(0);
    await con.expect(new RegExp(`^download done sha256=${target}$`), { since });
    expect(server.ranges).toEqual(["", `bytes=${offset}-`]);
  });

  it("downloads provisioning content by id with the CIK and installs it", async () => {
    const { con, server } = await bootedOnServer();
    const image = readFileSync(V110);
    server.content.set("firmware_v2", image);
    await con.run("download content=firmware_v2", /^error: download failed: not activated/);
    await con.run("set vendor acme", /^ok vendor$/);
    await con.run("set model m1", /^ok model$/);
    await con.run("activate", /^activation ok$/);
    await con.run("download content=firmware_v9", /^error: download failed: 404/);
    await con.run("download content=firmware_v2", new RegExp(`^download done sha256=${sha256(image)}$`));
    const since = con.send("install");
    const booted = await con.expect(BANNER, { since });
    expect(booted.groups).toMatchObject({ slot: "B", version: "1.1.0", trial: "1" });
  });

  it("flasher: fails clearly on a missing image, and reflashing resets a board running slot B", async () => {
    const missing = await runFlasher(join(workDir, "flash"), join(workDir, "nope.bin"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read image");
    expect(missing.stderr).toContain("ENOENT");

    const { board, con, server } = await bootedOnServer();
    server.offer(readFileSync(V110));
    await con.run("check", /^update available/);
    await con.run("download", /^download done/);
    const installing = con.send("install");
    await con.expect(/^boot: slot=B /, { since: installing });
    expect((await runFlasher(board.flashDir, V100)).code).toBe(0);
    expect(existsSync(join(board.flashDir, "slot-b.bin"))).toBe(false);
    const since = con.mark();
    await board.power.cycle(20);
    const m = await con.expect(BANNER, { since });
    expect(m.groups).toMatchObject({ slot: "A", version: "1.0.0", trial: "0" });
    expect(con.lines.slice(since).some((l) => l.includes("not confirmed"))).toBe(false);
  });
});
