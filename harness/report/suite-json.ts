// result.json of a suite (a directory run, a shard of one, or a merge of shards): every
// scenario's result, the exit code over all, and which shard(s) it covers.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SuiteFile } from "./read-result.ts";

export function writeSuiteJson(dir: string, suite: Omit<SuiteFile, "suite">): string {
  const file = join(dir, "result.json");
  writeFileSync(file, JSON.stringify({ suite: true, ...suite }, null, 2) + "\n");
  return file;
}
