// The QEMU tier in `npm test`: two shipped scenarios, unchanged, on rigs/qemu.yaml — a Linux
// guest under QEMU whose shell agent speaks the device API over a real TCP/IP stack and writes a
// raw disk. The whole suite on that rig is `npm run test:qemu`. A boot costs 5–8 CPU-seconds
// under TCG, so this file boots five times in all.
import { copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qemuMissing, SETUP_COMMAND } from "../../harness/board/qemu/guest-images.ts";
import { SLOT_OFFSET, SLOT_SIZE, readRegion } from "../../harness/board/qemu/disk-layout.ts";
import { verifyImage } from "../../devices/firmware-image.ts";
import { processesMentioning, readJson, rig, ROOT, tempDir } from "../cli/helpers.ts";

const dir = tempDir("otarig-qemu-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const RUN_TIMEOUT_MS = 300_000;

beforeAll(() => {
  const missing = qemuMissing();
  if (missing.length > 0) throw new Error(`the QEMU tier is not set up: ${missing.map((m) => `${m.what} (${m.fix})`).join("; ")}; run ${SETUP_COMMAND}`);
});

/** What is left of a run: processes whose command line names its directory (QEMU's disk, socat's PTY links). */
async function leftovers(out: string): Promise<string[]> {
  return processesMentioning(out);
}

function image(name: string): Buffer {
  return readFileSync(join(ROOT, "fixtures/firmware", name));
}

/** 16 KiB pages of `slot` that hold what `img` has there. */
function pagesMatching(slot: Buffer, img: Buffer): number {
  let n = 0;
  for (let o = 0; o < img.length; o += 16384) if (slot.subarray(o, o + 16384).equals(img.subarray(o, o + 16384))) n++;
  return n;
}

describe("rigs/qemu.yaml", () => {
  it(
    "ota-happy-path: a real kernel boots, the agent activates, downloads over guestfwd + the proxy, installs into slot B and boots it",
    async () => {
      const out = join(dir, "happy");
      const r = await rig(["scenarios/ota-happy-path.yaml", "--rig", "rigs/qemu.yaml", "--server", "process", "--out", out], { timeoutMs: RUN_TIMEOUT_MS });
      expect(r.exitCode, r.all).toBe(0);
      const result = JSON.stringify(readJson(join(out, "result.json")));
      expect(result).toContain("QB-0001: success"); // the deployment, as the server records it

      const log = readFileSync(join(out, "dut.log"), "utf8");
      // the guest's own bootloader line names the Linux kernel it runs under
      expect(log).toMatch(/\[boot\] otarig qemu bootloader \(Linux 6\.\d+\.\d+-\d+-amd64\)/);
      expect(log).toMatch(/boot: slot=A version=1\.0\.0 sha256=[0-9a-f]{64} trial=0/);
      expect(log).toMatch(/boot: slot=B version=1\.1\.0 sha256=[0-9a-f]{64} trial=1/);
      // the CIK is on the guest's disk, never on its console
      expect(log).toContain("activation ok");
      expect(log).not.toMatch(/(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])/);

      // after the run the disk holds 1.1.0 in slot B, byte for byte
      const disk = join(out, "virtual", "dut", "disk.img");
      const target = image("app-1.1.0.bin");
      expect(readRegion(disk, SLOT_OFFSET.B, target.length).equals(target)).toBe(true);
      expect(await leftovers(out)).toEqual([]);
    },
    RUN_TIMEOUT_MS + 10_000,
  );

  it(
    "power-cut-during-install: SIGKILL of QEMU mid-write leaves a torn slot B on the disk; the bootloader falls back to slot A; the retry succeeds",
    async () => {
      const out = join(dir, "cut");
      const disk = join(out, "virtual", "dut", "disk.img");
      const snapshot = join(dir, "cut-disk.img");
      const run = rig(["scenarios/power-cut-during-install.yaml", "--rig", "rigs/qemu.yaml", "--server", "process", "--out", out], {
        timeoutMs: RUN_TIMEOUT_MS,
      });
      // The disk as the fallback boot found it: the next write to slot B is the retry's install, much later.
      let copied = false;
      let finished = false;
      void run.then(() => (finished = true));
      const watch = (async () => {
        while (!finished && !copied) {
          const log = existsSync(join(out, "dut.log")) ? readFileSync(join(out, "dut.log"), "utf8") : "";
          if (/slot B invalid: .*falling back to slot A/.test(log)) {
            copyFileSync(disk, snapshot);
            copied = true;
          }
          await sleep(100);
        }
      })();
      const r = await run;
      await watch;
      expect(r.exitCode, r.all).toBe(0);
      expect(copied, "the fallback line never showed in dut.log").toBe(true);

      const log = readFileSync(join(out, "dut.log"), "utf8");
      expect(log).toMatch(/\[boot\] slot B invalid: (payload digest mismatch|empty|bad magic), falling back to slot A/);

      const target = image("app-1.1.0.bin");
      const slotB = readRegion(snapshot, SLOT_OFFSET.B, SLOT_SIZE).subarray(0, target.length);
      const pages = Math.ceil(target.length / 16384);
      const matching = pagesMatching(slotB, target);
      // torn: the install had written part of the new image, not all of it
      expect(matching, `slot B held ${matching} of ${pages} pages of the new image`).toBeGreaterThan(0);
      expect(matching).toBeLessThan(pages);
      expect(verifyImage(slotB).ok).toBe(false);
      // slot A was never touched
      const base = image("app-1.0.0.bin");
      expect(readRegion(snapshot, SLOT_OFFSET.A, base.length).equals(base)).toBe(true);
      expect(await leftovers(out)).toEqual([]);
    },
    RUN_TIMEOUT_MS + 10_000,
  );
});
