import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "./result.ts";

export function writeResultJson(result: RunResult, dir = result.runDir): string {
  const file = join(dir, "result.json");
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  return file;
}
