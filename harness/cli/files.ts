import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Expands directories into the scenario files they hold (sorted, non-recursive). */
export function expandScenarioArgs(args: string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    let isDir = false;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      /* a missing file is reported by the loader, with its name */
    }
    if (!isDir) {
      files.push(arg);
      continue;
    }
    const inDir = readdirSync(arg)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(arg, f));
    files.push(...inDir);
  }
  return files;
}
