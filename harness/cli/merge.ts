// rig merge OUT DIR…: the shard directories of a CI matrix -> one run directory (harness/lab/merge.ts).
import { MERGE_HELP } from "./lab-help.ts";
import { EXIT_CODES } from "../core/errors.ts";
import { mergeShards } from "../lab/merge.ts";


export async function mergeCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(MERGE_HELP);
    return EXIT_CODES.pass;
  }
  const unknown = argv.find((a) => a.startsWith("-"));
  if (unknown) return usage(`unknown option ${unknown}`);
  const [out, ...dirs] = argv;
  if (!out || dirs.length === 0) return usage("give the output directory and at least one shard directory");
  const merged = mergeShards(out, dirs);
  for (const s of merged.shards) {
    const what = s.status === "ok" ? `${s.results.length} scenario(s)${s.shard ? ` (shard ${s.shard.index}/${s.shard.total})` : ""}` : `${s.status}: ${s.message ?? ""}`;
    process.stdout.write(`${s.status === "ok" ? "  " : "! "}${s.dir}: ${what}\n`);
  }
  for (const a of merged.absent) process.stdout.write(`! shard ${a}: no directory holds it\n`);
  const passed = merged.results.filter((r) => r.status === "passed").length;
  process.stdout.write(`${passed} passed, ${merged.results.length - passed} not passed, in ${merged.results.length} scenarios; merged into ${out} (exit ${merged.exitCode})\n`);
  if (merged.exitCode === EXIT_CODES.infrastructure && (merged.absent.length || merged.shards.some((s) => s.status !== "ok"))) {
    process.stderr.write(`rig merge: some shards produced no results (see above)\n`);
  }
  return merged.exitCode;
}

function usage(message: string): number {
  process.stderr.write(`rig merge: ${message}\n${MERGE_HELP}`);
  return EXIT_CODES.scenario;
}
