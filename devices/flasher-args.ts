// The command line the flashers share (the virtual board's and the QEMU board's): where to write
// (one option naming the target), --erase-all, one image; and esptool's way of failing, so a
// rig's flash step reads their errors as it reads esptool's.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

export function fail(message: string, code = 1): never {
  process.stderr.write(`A fatal error occurred: ${message}\n`);
  process.exit(code);
}

/** Parses `--<target> <path> [--erase-all] <image>` and reads the image; exits 2 on bad usage. */
export function flasherArgs(target: string, usage: string): { target: string; imagePath: string; image: Buffer; eraseAll: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ options: { [target]: { type: "string" }, "erase-all": { type: "boolean", default: false } }, allowPositionals: true });
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\n${usage}`, 2);
  }
  const where = parsed.values[target];
  const imagePath = parsed.positionals[0];
  if (typeof where !== "string" || !imagePath || parsed.positionals.length !== 1) fail(usage, 2);
  let image: Buffer;
  try {
    image = readFileSync(imagePath);
  } catch (err) {
    fail(`cannot read image ${imagePath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (image.length === 0) fail(`image ${imagePath} is empty`);
  return { target: where, imagePath, image, eraseAll: parsed.values["erase-all"] === true };
}
