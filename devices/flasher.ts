// The virtual flasher: writes an image into a virtual board's slot A, as esptool's write_flash
// does on a real board, and prints esptool-like progress so the same `progress` regex fits.
//
//   node --import tsx devices/flasher.ts --flash-dir <dir> [--erase-all] <image>
//
// Like flashing a real board with its partition table and initial otadata, it also resets the
// boot state (slot A active, no trial), erases slot B and forgets any download. Settings (NVS,
// with the CIK) survive unless --erase-all.
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "./firmware-image.ts";
import { fail, flasherArgs } from "./flasher-args.ts";
import { FRESH_STATE, Flash, writePaged } from "./board/flash.ts";

const USAGE = "usage: flasher.ts --flash-dir <dir> [--erase-all] <image>";
const BLOCK = 16 * 1024;

async function main(): Promise<void> {
  const { target: dir, imagePath, image, eraseAll } = flasherArgs("flash-dir", USAGE);

  const flash = new Flash(dir);
  console.log(`virtual flasher: ${imagePath} -> ${dir}`);
  if (eraseAll) {
    console.log("Erasing flash (this may take a while)...");
    rmSync(join(dir, "nvs.json"), { force: true });
  }
  console.log(`Compressed ${image.length} bytes to ${image.length}...`);

  // Written to a side file and renamed, so a board booting meanwhile sees the old or the new image.
  const slotA = flash.slotPath("A");
  const tmp = `${slotA}.flashing`;
  const started = performance.now();
  await writePaged(tmp, image, BLOCK, 1, (written) => {
    const address = Math.floor((written - 1) / BLOCK) * BLOCK;
    console.log(`Writing at 0x${address.toString(16).padStart(8, "0")}... (${Math.floor((written * 100) / image.length)} %)`);
  });
  renameSync(tmp, slotA);

  flash.eraseSlot("B");
  flash.clearDownload();
  flash.writeState({ ...FRESH_STATE });

  const seconds = (performance.now() - started) / 1000;
  console.log(`Wrote ${image.length} bytes at 0x00000000 in ${seconds.toFixed(1)} seconds...`);
  const written = flash.readSlot("A");
  if (!written || sha256(written) !== sha256(image)) fail("hash of data does not match");
  console.log("Hash of data verified.");
  console.log("");
  console.log("Leaving...");
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
