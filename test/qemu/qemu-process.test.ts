// The QEMU process's life: a start that fails is reported at once with QEMU's own words, and a
// harness that dies (SIGKILL, no clean-up) takes QEMU and its socats with it.
import { execa } from "execa";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQemuBoard } from "../../harness/board/qemu/qemu-board.ts";
import { qemuMissing } from "../../harness/board/qemu/guest-images.ts";
import { processesMentioning, tempDir } from "../cli/helpers.ts";
import { rmSync } from "node:fs";

const dir = tempDir("otarig-qemu-process-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  const missing = qemuMissing();
  if (missing.length > 0) throw new Error(`the QEMU tier is not set up: ${missing.map((m) => `${m.what} (${m.fix})`).join("; ")}`);
});

describe("the QEMU process", () => {
  it("a QEMU that cannot start fails power on, and its message reaches the board's output", async () => {
    const lines: string[] = [];
    const board = await startQemuBoard({
      name: "dut",
      serialNumber: "QB-TINY",
      workDir: join(dir, "tiny"),
      memoryMb: 1, // too small for the initramfs: QEMU refuses to start
      flashDelayUs: 0,
      diskWriteBps: 0,
      uplink: () => undefined,
      onOutput: (l) => lines.push(l),
    });
    try {
      await expect(board.power.on()).rejects.toThrow(/board dut: QEMU did not come up: QMP: (QEMU exited before its monitor socket|the monitor closed before its greeting)/);
      expect(board.isPowered()).toBe(false);
      expect(lines.join("\n")).toMatch(/initrd is too large/);
      expect(lines).toContain("qemu exited with code 1");
    } finally {
      await board.stop();
    }
  });

  it("a harness killed with SIGKILL leaves no QEMU, guestfwd or PTY socat behind", async () => {
    const work = join(dir, "dies");
    const r = await execa(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures/power-on-and-die.ts"), work], { reject: false });
    expect(r.stdout).toContain("powered on");
    expect(r.signal).toBe("SIGKILL");
    let left = await processesMentioning(work);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await sleep(100);
      left = await processesMentioning(work);
    }
    expect(left).toEqual([]);
    expect(await processesMentioning("OTA_SERIAL=QB-DIES")).toEqual([]);
  });
});
