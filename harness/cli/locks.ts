// rig locks: who holds which physical thing, since when, and which locks are stale (their holder
// is gone: the next run that needs the thing takes them over).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { EXIT_CODES, ScenarioError } from "../core/errors.ts";
import { chooseLockDir } from "../board/lock/lock-dir.ts";
import { describeHolder, readLockFile, staleReason } from "../board/lock/lock-file.ts";
import { listHeldPlaces } from "../lab/labgrid/held-places.ts";
import { commandHelp } from "./help.ts";

export async function locksCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { dir: { type: "string" }, help: { type: "boolean", short: "h", default: false } } });
  } catch (err) {
    process.stderr.write(`rig locks: ${(err as Error).message}\n`);
    return EXIT_CODES.scenario;
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp("locks"));
    return EXIT_CODES.pass;
  }
  let rigLockDir: string | undefined;
  if (parsed.positionals[0]) {
    const { loadRig } = await import("../scenario/load-rig.ts");
    try {
      rigLockDir = (await loadRig(parsed.positionals[0])).lockDir;
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      process.stderr.write(`${err.toString()}\n`);
      return EXIT_CODES.scenario;
    }
  }
  const choice = parsed.values.dir ? { dir: parsed.values.dir, perUser: false } : chooseLockDir(rigLockDir);
  if ("warning" in choice && choice.warning) process.stderr.write(`rig locks: ${choice.warning}\n`);
  let files: string[];
  try {
    files = readdirSync(choice.dir).filter((f) => f.endsWith(".lock")).sort();
  } catch {
    files = [];
  }
  process.stdout.write(`lock dir ${choice.dir}${choice.perUser ? " (per user)" : ""}: ${files.length} lock(s)\n`);
  for (const name of files) {
    const seen = readLockFile(join(choice.dir, name));
    if (!seen) continue; // released meanwhile
    if (!seen.record) {
      process.stdout.write(`?      ${name}: unreadable lock file\n`);
      continue;
    }
    const r = seen.record;
    const why = staleReason(r);
    process.stdout.write(`${why ? "STALE " : "held  "} ${r.key}  ${r.what}\n       by ${describeHolder(r)}${why ? `\n       stale: ${why}` : ""}\n`);
  }
  // labgrid places are locked by their coordinator; otarig keeps a record of the ones it holds
  const places = listHeldPlaces(choice.dir);
  if (places.length) process.stdout.write(`labgrid places held by otarig: ${places.length}\n`);
  for (const p of places) {
    const what = p.place ?? Object.entries(p.filter).map(([k, v]) => `${k}=${v}`).join(" ");
    process.stdout.write(
      `${p.alive ? "held  " : "STALE "} labgrid:${p.coordinator}/${what} (user ${p.user}, token ${p.token})\n       by pid ${p.pid} on ${p.host} since ${p.since}${p.alive ? "" : "\n       stale: the process is gone; the next run with a labgrid board frees it"}\n`,
    );
  }
  return EXIT_CODES.pass;
}
