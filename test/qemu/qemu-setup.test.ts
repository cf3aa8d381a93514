// The QEMU tier's parts that need no QEMU: the rig key, `rig doctor`, the flasher's disk layout.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DISK_SIZE, SETTINGS_OFFSET, SLOT_OFFSET, STATE_OFFSET, blockBytes, readBlock, readRegion, writeRegion } from "../../harness/board/qemu/disk-layout.ts";
import { loadRig } from "../../harness/scenario/load-rig.ts";
import { boardLockKeys } from "../../harness/board/lock/lock-keys.ts";
import { ROOT, rig, tempDir } from "../cli/helpers.ts";

const dir = tempDir("otarig-qemu-setup-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("qemu boards in rig files", () => {
  it("rigs/qemu.yaml: two QEMU boards, power and reset on the QEMU process, the flasher with the board's disk", async () => {
    const r = await loadRig(join(ROOT, "rigs/qemu.yaml"));
    expect(Object.keys(r.boards)).toEqual(["dut", "dut2"]);
    const dut = r.boards.dut!;
    expect(dut.qemu).toEqual({ memoryMb: 128, flashDelayUs: 60_000, diskWriteBps: 0 });
    expect(dut.power).toEqual({ virtual: true });
    expect(dut.reset).toEqual({ virtual: true });
    expect(dut.console.port).toBeUndefined();
    expect(dut.flash?.command).toContain("{board.disk}");
  });

  it("a QEMU board in a run locks nothing; its disk image when it outlives the run (board commands)", async () => {
    const dut = (await loadRig(join(ROOT, "rigs/qemu.yaml"))).boards.dut!;
    expect(await boardLockKeys(dut, { rigName: "qemu", relays: {} })).toEqual([]);
    expect(await boardLockKeys(dut, { rigName: "qemu", relays: {}, virtualDir: "/cache/q" })).toEqual([
      { key: "qemu-disk:/cache/q/dut/disk.img", what: "QEMU disk of board dut (rig qemu)" },
    ]);
  });

  it("a board cannot be both virtual and qemu; the error points at the qemu key", async () => {
    const file = join(dir, "both.yaml");
    writeFileSync(file, ["name: both", "boards:", "  dut:", "    serial_number: X", "    profile: p.yaml", "    virtual: {}", "    qemu: { memory: 128 }", ""].join("\n"));
    const err = await loadRig(file).then(() => undefined, (e: unknown) => e);
    expect(String(err)).toMatch(/both\.yaml:7:5: board dut is either virtual or qemu, not both/);
  });
});

describe("rig doctor on a QEMU rig", () => {
  it("exits 3 and names the setup command when the guest kernel is not in the cache", async () => {
    const empty = join(dir, "empty-cache");
    mkdirSync(empty);
    const r = await rig(["doctor", "rigs/qemu.yaml"], { env: { OTARIG_QEMU_CACHE: empty } });
    expect(r.exitCode, r.all).toBe(3);
    expect(r.stdout).toMatch(/FAIL\s+board dut\s+qemu board: the guest kernel is not in .*empty-cache\/kernel; fix: npm run qemu:setup/);
  });
});

describe("the QEMU flasher", () => {
  it("writes the image into slot A, resets the boot state, erases slot B's header and keeps the settings", () => {
    const disk = join(dir, "disk.img");
    const image = join(ROOT, "fixtures/firmware/app-1.0.0.bin");
    const flash = () =>
      execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "devices/qemu/flasher.ts"), "--disk", disk, image], { cwd: ROOT, encoding: "utf8" });
    flash(); // creates the disk
    writeRegion(disk, STATE_OFFSET, blockBytes({ active: "B", trial: "1" }));
    writeRegion(disk, SETTINGS_OFFSET, blockBytes({ cik: "c".repeat(40) }));
    writeRegion(disk, SLOT_OFFSET.B, Buffer.from("OTRG-some-old-image"));
    const out = flash();
    expect(out).toMatch(/Writing at 0x00000000\.\.\. \(6 %\)/);
    expect(out).toContain("Hash of data verified.");
    const img = readRegion(image, 0, DISK_SIZE);
    expect(readRegion(disk, SLOT_OFFSET.A, img.length).equals(img)).toBe(true);
    expect(readBlock(disk, STATE_OFFSET)).toEqual({ active: "A", trial: "0" });
    expect(readRegion(disk, SLOT_OFFSET.B, 4096).every((b) => b === 0)).toBe(true);
    expect(readBlock(disk, SETTINGS_OFFSET)).toEqual({ cik: "c".repeat(40) });
  });
});
