// Where the virtual device programs live, by absolute path, so the harness can run from any
// directory. They are run with this repository as working directory (for `--import tsx`).
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BOARD_PROGRAM = join(REPO_ROOT, "devices", "board", "main.ts");
export const FLASHER_PROGRAM = join(REPO_ROOT, "devices", "flasher.ts");
export const RELAY_PROGRAM = join(REPO_ROOT, "devices", "relay-lcus.ts");
