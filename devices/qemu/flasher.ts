// The QEMU board's flasher: writes an image into slot A of the board's raw disk, as esptool's
// write_flash does on a real board, and prints esptool-like progress so the same `progress`
// regex fits. Like flashing a full image, it also resets the boot state (slot A active, no
// trial), erases slot B's header and forgets any download. Settings (the CIK) survive unless
// --erase-all.
//
//   node --import tsx devices/qemu/flasher.ts --disk <disk.img> [--erase-all] <image>
import { createHash } from "node:crypto";
import { fail, flasherArgs } from "../flasher-args.ts";
import {
  BLOCK_SIZE, SETTINGS_OFFSET, SLOT_OFFSET, SLOT_SIZE, STATE_OFFSET, blockBytes, ensureDisk, readRegion, writeRegion,
} from "../../harness/board/qemu/disk-layout.ts";

const USAGE = "usage: flasher.ts --disk <disk image> [--erase-all] <image>";
const PAGE = 16 * 1024;

function main(): void {
  const { target: disk, imagePath, image, eraseAll } = flasherArgs("disk", USAGE);
  if (image.length > SLOT_SIZE) fail(`image ${imagePath} is ${image.length} bytes: a slot holds ${SLOT_SIZE}`);

  ensureDisk(disk);
  console.log(`qemu flasher: ${imagePath} -> ${disk} slot A`);
  if (eraseAll) {
    console.log("Erasing flash (this may take a while)...");
    writeRegion(disk, SETTINGS_OFFSET, Buffer.alloc(BLOCK_SIZE));
  }
  const started = performance.now();
  for (let offset = 0; offset < image.length; offset += PAGE) {
    writeRegion(disk, SLOT_OFFSET.A + offset, image.subarray(offset, offset + PAGE));
    const written = Math.min(offset + PAGE, image.length);
    console.log(`Writing at 0x${offset.toString(16).padStart(8, "0")}... (${Math.floor((written * 100) / image.length)} %)`);
  }
  writeRegion(disk, SLOT_OFFSET.B, Buffer.alloc(BLOCK_SIZE));
  writeRegion(disk, STATE_OFFSET, blockBytes({ active: "A", trial: "0" }));
  console.log(`Wrote ${image.length} bytes at 0x00000000 in ${((performance.now() - started) / 1000).toFixed(1)} seconds...`);
  const back = readRegion(disk, SLOT_OFFSET.A, image.length);
  const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  if (digest(back) !== digest(image)) fail("hash of data does not match");
  console.log("Hash of data verified.");
  console.log("");
  console.log("Leaving...");
}

main();
