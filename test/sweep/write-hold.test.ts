// A write cut on a real virtual board (PTY pair, board process, fake OTA server): the board
// reports each page, holds after the page holding the offset, and stays held, even once the
// cut is disarmed, until its power goes: it must not write on while a relay switches.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import type { Board, FlashWrite } from "../../harness/board/types.ts";
import { startVirtualBoard, type VirtualBoard } from "../../harness/board/virtual/virtual-board.ts";
import { armCut } from "../../harness/faults/cut-trigger.ts";
import { ConsoleReader, FakeOtaServer, FIRMWARE, runFlasher } from "../devices/helpers.ts";

const PAGE = 16 * 1024;
let workDir: string | undefined;
let board: VirtualBoard | undefined;
let con: ConsoleReader | undefined;
let server: FakeOtaServer | undefined;

afterEach(async () => {
  await con?.close();
  await board?.stop();
  await server?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

it("holds the writer right after the page holding the offset, and keeps it held once disarmed", async () => {
  workDir = mkdtempSync(join(tmpdir(), "otarig-write-hold-"));
  board = await startVirtualBoard({ name: "dut", serialNumber: "VB-HOLD-1", workDir });
  con = await ConsoleReader.open(board.consolePort);
  expect((await runFlasher(board.flashDir, join(FIRMWARE, "app-1.0.0.bin"))).code).toBe(0);
  await board.power.on();
  await con.expect(/^boot: slot=A /);
  await con.prompt();
  server = new FakeOtaServer();
  await con.run(`set server ${await server.start()}`, /^ok server$/);
  await con.run("set firmware_id 7", /^ok firmware_id$/);
  server.offer(readFileSync(join(FIRMWARE, "app-1.1.0.bin")));
  await con.run("check", /^update available/);

  const writes: FlashWrite[] = [];
  board.writes.onWrite((w) => writes.push(w));
  await con.run("download", /^download done/);
  expect(writes.filter((w) => w.area === "download").map((w) => w.offset)).toEqual(Array.from({ length: 17 }, (_, i) => i * PAGE));

  // Armed on the install: byte 3 pages + 5 is in the 4th page; the cut fires once it is written.
  const armed = armCut({ writes: board.writes } as unknown as Board, { kind: "write", offset: 3 * PAGE + 5, area: "install" });
  con.send("install");
  await armed.fired;
  const install = () => writes.filter((w) => w.area === "install");
  await sleep(300);
  expect(install().map((w) => w.offset)).toEqual([0, PAGE, 2 * PAGE, 3 * PAGE]);
  armed.stop(); // what the cut does once the power is off: here the board is still on
  await sleep(300);
  expect(install()).toHaveLength(4);
  expect(armed.landing()).toMatchObject({ trigger: "write", area: "install", offset: 4 * PAGE, total: 262272, written: 4 * PAGE });

  // Power off and on: the new boot runs free (no hold left over), falling back from the torn slot.
  await board.power.off();
  await board.power.on();
  await con.expect(/slot B invalid: .*falling back to slot A/);
});
