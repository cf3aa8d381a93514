// --shard i/n: one CI job's share of a suite. Deterministic (the same scenarios and durations
// give the same split on every machine, whatever order the files were listed in) and complete
// (every scenario in exactly one shard). With durations from an earlier result.json the split
// balances time (longest first onto the least loaded shard); without, it balances count.
import { createHash } from "node:crypto";
import { ScenarioError } from "../core/errors.ts";
import { readResultFile, resultsOf } from "../report/read-result.ts";

export interface ShardSpec {
  index: number; // 1-based, as CI_NODE_INDEX and a matrix list it
  total: number;
}

export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || total < 1 || index < 1 || index > total) {
    throw new Error(`--shard must be i/n with 1 ≤ i ≤ n (e.g. 2/4), not "${text}"`);
  }
  return { index, total };
}

export interface Shardable {
  /** the scenario's name: the key durations are looked up by */
  name: string;
  /** tie-breaker for equal names */
  file: string;
}

/**
 * The items of each shard (index 0 = shard 1). `durations` maps scenario names to ms; a
 * scenario missing from it counts as the median of the known ones.
 */
export function splitIntoShards<T extends Shardable>(items: T[], total: number, durations?: Map<string, number>): T[][] {
  const sorted = [...items].sort((a, b) => compare(a.name, b.name) || compare(a.file, b.file));
  const shards: T[][] = Array.from({ length: total }, () => []);
  if (!durations || durations.size === 0) {
    sorted.forEach((item, i) => shards[i % total]!.push(item));
    return shards;
  }
  const fallback = median([...durations.values()]);
  const cost = (t: T) => durations.get(t.name) ?? fallback;
  const load = new Array<number>(total).fill(0);
  // Longest first, each onto the least loaded shard (lowest index on a tie): within 4/3 of ideal.
  for (const item of [...sorted].sort((a, b) => cost(b) - cost(a) || compare(a.name, b.name) || compare(a.file, b.file))) {
    let best = 0;
    for (let i = 1; i < total; i++) if (load[i]! < load[best]!) best = i;
    shards[best]!.push(item);
    load[best]! += cost(item);
  }
  return shards.map((s) => s.sort((a, b) => compare(a.name, b.name) || compare(a.file, b.file)));
}

export function selectShard<T extends Shardable>(items: T[], shard: ShardSpec, durations?: Map<string, number>): T[] {
  return splitIntoShards(items, shard.total, durations)[shard.index - 1]!;
}

/** Scenario durations from an earlier result.json (a merged one, a suite's or a scenario's). */
export function readDurations(file: string): Map<string, number> {
  const durations = new Map<string, number>();
  try {
    for (const r of resultsOf(readResultFile(file))) durations.set(r.scenario, r.durationMs);
  } catch (err) {
    if (err instanceof ScenarioError) throw new ScenarioError(`--durations: ${err.toString()}`);
    throw err;
  }
  return durations;
}

/** Code-point order: the same on every machine, whatever its locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 1;
}

export interface ShardChoice<T> {
  items: T[];
  /** `plan` fingerprints the whole split: shards that disagree on it did not split alike */
  info?: { index: number; total: number; scenarios: string[]; plan: string };
}

/** What `rig run --shard i/n [--durations FILE]` runs: throws Error for a bad --shard, ScenarioError for a bad file. */
export function chooseShard<T extends Shardable>(items: T[], shardArg?: string, durationsFile?: string): ShardChoice<T> {
  if (shardArg === undefined) {
    if (durationsFile !== undefined) throw new Error("--durations needs --shard");
    return { items };
  }
  const shard = parseShard(shardArg);
  const all = splitIntoShards(items, shard.total, durationsFile ? readDurations(durationsFile) : undefined);
  const mine = all[shard.index - 1]!;
  const plan = createHash("sha256").update(JSON.stringify(all.map((s) => s.map((i) => i.name)))).digest("hex").slice(0, 16);
  return { items: mine, info: { ...shard, scenarios: mine.map((i) => i.name), plan } };
}
