// rig merge OUT DIR…: one run directory from the shard directories of a CI matrix. Each
// scenario's directory is copied under OUT (its page, logs and result; not the server's data
// or the virtual boards' flash), and OUT gets one junit.xml with every testcase, one
// result.json over all and the suite page linking every scenario's page by a relative link,
// so OUT survives being uploaded as a CI artifact. A shard directory that is missing, has no
// readable result.json, or lacks results its shard was meant to hold is reported and makes
// the exit code 3; otherwise the code is the most serious of the shards'.
import { cpSync, existsSync, mkdirSync, statSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { EXIT_CODES, ScenarioError } from "../core/errors.ts";
import { REPORT_FILE, writeRunPage, writeSuitePage } from "../report/html.ts";
import { writeJunit } from "../report/junit.ts";
import { readResultFile, type ReadResult, type ShardInfo } from "../report/read-result.ts";
import { writeSuiteJson } from "../report/suite-json.ts";
import { worstExitCode } from "../core/exit-code.ts";

export interface ShardOutcome {
  dir: string;
  status: "ok" | "missing" | "no results" | "unreadable" | "incomplete" | "split differently";
  message?: string;
  exitCode?: number;
  shard?: ShardInfo;
  results: ReadResult[];
}

export interface MergeOutcome {
  exitCode: number;
  shards: ShardOutcome[];
  results: ReadResult[];
  /** shard indexes of an i/n split that no directory held */
  absent: string[];
}

/** Directories a copy of a scenario leaves out: live state of the run, not its record. */
const NOT_COPIED = new Set(["server-data", "virtual"]);

export function mergeShards(out: string, dirs: string[]): MergeOutcome {
  const outDir = resolve(out);
  mkdirSync(outDir, { recursive: true });
  const shards = markInconsistentSplits(dirs.map((d) => readShard(resolve(d))));
  const absent = absentShards(shards);
  const results: ReadResult[] = [];
  const taken = new Set<string>();
  for (const shard of shards) {
    for (const r of shard.results) {
      const from = locate(shard.dir, r);
      let name = safeName(r.scenario);
      if (taken.has(name)) name = `${safeName(basename(shard.dir))}-${name}`;
      taken.add(name);
      const to = join(outDir, name);
      if (from && resolve(from) !== to) {
        cpSync(from, to, { recursive: true, filter: (src) => !(NOT_COPIED.has(basename(src)) && statSync(src).isDirectory()) });
      } else {
        mkdirSync(to, { recursive: true });
      }
      const moved: ReadResult = { ...r, runDir: to, file: portableFile(r.file) };
      if (existsSync(join(to, "result.json")) || from) writeRunPage(moved, to);
      results.push(moved);
    }
  }
  const failedShards = shards.filter((s) => s.status !== "ok");
  const exitCode = failedShards.length || absent.length
    ? EXIT_CODES.infrastructure
    : worstExitCode(shards.map((s) => s.exitCode ?? EXIT_CODES.pass));
  const shardRecords = [
    ...shards.map((s) => ({ dir: s.dir, status: s.status, ...(s.message ? { message: s.message } : {}) })),
    ...absent.map((a) => ({ dir: `(shard ${a})`, status: "missing", message: `no directory holds shard ${a}` })),
  ];
  writeSuiteJson(outDir, { exitCode, shards: shardRecords, results });
  writeJunit(join(outDir, "junit.xml"), results);
  writeSuitePage(join(outDir, REPORT_FILE), results, { title: "otarig merged suite", shards: shardRecords });
  return { exitCode, shards, results, absent };
}

function readShard(dir: string): ShardOutcome {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { dir, status: "missing", message: "no such directory", results: [] };
  const file = join(dir, "result.json");
  if (!existsSync(file)) return { dir, status: "no results", message: "no result.json (the shard did not finish?)", results: [] };
  let read;
  try {
    read = readResultFile(file);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return { dir, status: "unreadable", message: err.toString(), results: [] };
  }
  if (read.kind === "scenario") {
    return { dir, status: "ok", exitCode: read.result.exitCode ?? EXIT_CODES.infrastructure, results: [read.result] };
  }
  const s = read.suite;
  const have = new Set(s.results.map((r) => r.scenario));
  const lacking = (s.shard?.scenarios ?? []).filter((n) => !have.has(n));
  return {
    dir,
    status: lacking.length ? "incomplete" : "ok",
    ...(lacking.length ? { message: `no result for ${lacking.join(", ")}` } : {}),
    exitCode: s.exitCode,
    ...(s.shard ? { shard: s.shard } : {}),
    results: s.results,
  };
}

/**
 * Shards of one split agree on its plan (the whole assignment). Different scenario lists or
 * --durations files on different runners would drop or double scenarios: say so.
 */
function markInconsistentSplits(shards: ShardOutcome[]): ShardOutcome[] {
  const plans = new Map<string, number>();
  for (const s of shards) if (s.shard?.plan) plans.set(s.shard.plan, (plans.get(s.shard.plan) ?? 0) + 1);
  if (plans.size <= 1) return shards;
  const common = [...plans.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return shards.map((s) =>
    s.status === "ok" && s.shard?.plan && s.shard.plan !== common
      ? { ...s, status: "split differently", message: `split plan ${s.shard.plan}, the others ${common}: same scenarios and --durations file on every runner?` }
      : s,
  );
}

/** "2/3" for each index of an i/n split that none of the directories held. */
function absentShards(shards: ShardOutcome[]): string[] {
  const totals = new Set(shards.flatMap((s) => (s.shard ? [s.shard.total] : [])));
  const absent: string[] = [];
  for (const total of totals) {
    const seen = new Set(shards.filter((s) => s.shard?.total === total).map((s) => s.shard!.index));
    for (let i = 1; i <= total; i++) if (!seen.has(i)) absent.push(`${i}/${total}`);
  }
  return absent;
}

/** Where a scenario's directory is now: as recorded, or by its name under the shard dir. */
export function locate(shardDir: string, r: ReadResult): string | undefined {
  if (resolve(r.runDir) === shardDir) return shardDir;
  for (const candidate of [join(shardDir, basename(r.runDir)), join(shardDir, safeName(r.scenario))]) {
    if (existsSync(join(candidate, "result.json"))) return candidate;
  }
  if (existsSync(join(r.runDir, "result.json"))) return r.runDir;
  return undefined;
}

/** A scenario file as CI test tabs group it: from the checkout root, even if the shard ran elsewhere. */
function portableFile(file: string): string {
  const rel = relative(process.cwd(), file);
  if (!isAbsolute(file) || (rel && !rel.startsWith("..") && !isAbsolute(rel))) return file;
  return file.split(/[\\/]/).filter(Boolean).slice(-2).join("/");
}

function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, "_");
}
