// --shard i/n and rig merge as a CI matrix uses them: the split of scenarios/ (complete,
// disjoint, the same on every call and whatever the file order), then real shard runs of a
// small suite on the virtual rig merged into one directory whose links resolve.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitIntoShards, parseShard } from "../../harness/lab/shard.ts";
import { loadScenario } from "../../harness/scenario/load-scenario.ts";
import { ROOT, readJson, rig } from "../cli/helpers.ts";

const SUITE = join(ROOT, "test/report/fixtures/shards");

describe("shard split", () => {
  it("splits scenarios/ into shards that cover each scenario exactly once, the same way every time", async () => {
    const files = readdirSync(join(ROOT, "scenarios")).filter((f) => f.endsWith(".yaml"));
    const items = await Promise.all(files.map(async (f) => ({ name: (await loadScenario(join(ROOT, "scenarios", f))).scenario.name, file: f })));
    for (const n of [2, 3, 5]) {
      const shards = splitIntoShards(items, n);
      const names = shards.flat().map((s) => s.name);
      expect(names.sort()).toEqual(items.map((i) => i.name).sort());
      expect(new Set(names).size).toBe(items.length);
      expect(Math.max(...shards.map((s) => s.length)) - Math.min(...shards.map((s) => s.length))).toBeLessThanOrEqual(1);
      // A second call, with the files listed in another order, gives the same shards.
      expect(splitIntoShards([...items].reverse(), n)).toEqual(shards);
    }
  });

  it("balances by duration when durations are known, unknown ones counting as the median", () => {
    const items = ["soak", "a", "b", "c", "d", "new"].map((name) => ({ name, file: `${name}.yaml` }));
    const durations = new Map([["soak", 60_000], ["a", 20_000], ["b", 20_000], ["c", 15_000], ["d", 5_000]]);
    const shards = splitIntoShards(items, 2, durations);
    const load = shards.map((s) => s.reduce((sum, i) => sum + (durations.get(i.name) ?? 20_000), 0));
    // Longest first onto the least loaded: soak | a b new (20 s, the median) | c then d fill the gaps.
    expect(shards.map((s) => s.map((i) => i.name))).toEqual([["c", "soak"], ["a", "b", "d", "new"]]);
    expect(load).toEqual([75_000, 65_000]);
    // By count the same items would put soak with two others.
    expect(splitIntoShards(items, 2).map((s) => s.length)).toEqual([3, 3]);
    expect(splitIntoShards([...items].reverse(), 2, durations)).toEqual(shards);
  });

  it("takes i/n with 1 ≤ i ≤ n, and says what it wants otherwise", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, total: 3 });
    for (const bad of ["0/3", "4/3", "1/0", "a/b", "2"]) expect(() => parseShard(bad)).toThrow(/--shard must be i\/n/);
  });
});

describe("rig run --shard and rig merge", () => {
  let tmp: string;
  const env = () => ({ XDG_CACHE_HOME: join(tmp, "cache") });
  const shardOut: Record<string, string> = {};
  const shardRuns: Record<string, Awaited<ReturnType<typeof rig>>> = {};

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "otarig-shards-"));
    for (const i of [1, 2]) {
      shardOut[i] = join(tmp, `shard-${i}`);
      shardRuns[i] = await rig([SUITE, "--shard", `${i}/2`, "--out", shardOut[i]!], { env: env() });
    }
  }, 180_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("each shard runs its part, says which, and records it in result.json and its page", () => {
    expect(shardRuns[1]!.stdout).toContain("shard 1/2: boot-alpha, boot-charlie");
    expect(shardRuns[1]!.exitCode, shardRuns[1]!.all).toBe(1); // boot-charlie fails
    expect(shardRuns[2]!.stdout).toContain("shard 2/2: boot-bravo");
    expect(shardRuns[2]!.exitCode, shardRuns[2]!.all).toBe(0);
    const suite = readJson(join(shardOut[1]!, "result.json"));
    expect(suite.shard).toMatchObject({ index: 1, total: 2, scenarios: ["boot-alpha", "boot-charlie"] });
    expect(suite.shard.plan).toBe(readJson(join(shardOut[2]!, "result.json")).shard.plan);
    expect(suite.results.map((r: { scenario: string }) => r.scenario)).toEqual(["boot-alpha", "boot-charlie"]);
    expect(suite.results[0].environment.shard).toEqual({ index: 1, total: 2 });
    expect(readFileSync(join(shardOut[1]!, "report.html"), "utf8")).toContain("shard 1/2: boot-alpha, boot-charlie");
  });

  it("merges the shards into one JUnit with every testcase and a suite page whose links resolve", async () => {
    const out = join(tmp, "merged");
    const r = await rig(["merge", out, shardOut[1]!, shardOut[2]!]);
    expect(r.exitCode, r.all).toBe(1); // the most serious of the shards': a test failure
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toMatch(/<testsuites name="otarig" tests="3" failures="1" errors="0"/);
    for (const name of ["boot-alpha", "boot-bravo", "boot-charlie"]) expect(junit).toContain(`name="${name}"`);
    expect(junit).toContain('classname="test.report.fixtures.shards.boot-alpha"');
    const merged = readJson(join(out, "result.json"));
    expect(merged.exitCode).toBe(1);
    expect(merged.results).toHaveLength(3);
    expect(merged.shards.map((s: { status: string }) => s.status)).toEqual(["ok", "ok"]);
    // Uploaded as an artifact the directory moves: its links must still resolve.
    const moved = join(tmp, "artifact", "nightly");
    mkdirSync(dirname(moved), { recursive: true });
    renameSync(out, moved);
    const page = readFileSync(join(moved, "report.html"), "utf8");
    const links = [...page.matchAll(/href="([^"#]+)"/g)].map((m) => decodeURIComponent(m[1]!));
    expect(links.filter((l) => l.endsWith("report.html"))).toHaveLength(3);
    for (const link of links) expect(existsSync(resolve(moved, link)), link).toBe(true);
    // Each scenario's own page came along, with its logs beside it.
    const alpha = readFileSync(join(moved, "boot-alpha", "report.html"), "utf8");
    for (const link of [...alpha.matchAll(/href="([^"#]+)"/g)].map((m) => decodeURIComponent(m[1]!))) {
      expect(existsSync(resolve(moved, "boot-alpha", link)), link).toBe(true);
    }
    expect(existsSync(join(moved, "boot-alpha", "server-data"))).toBe(false);
    // rig report rebuilds the moved directory's suite page and every scenario's page in place.
    const rebuilt = await rig(["report", moved]);
    expect(rebuilt.exitCode, rebuilt.all).toBe(0);
    expect(rebuilt.stdout.trim().split("\n").sort()).toEqual(
      [join(moved, "report.html"), ...["boot-alpha", "boot-bravo", "boot-charlie"].map((n) => join(moved, n, "report.html"))].sort(),
    );
    expect(readFileSync(join(moved, "report.html"), "utf8")).toContain('href="boot-bravo/report.html"');
  });

  it("reports a missing shard and exits 3", async () => {
    const out = join(tmp, "half");
    const r = await rig(["merge", out, shardOut[2]!]);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.stdout).toContain("shard 1/2: no directory holds it");
    expect(readJson(join(out, "result.json")).shards.at(-1)).toMatchObject({ status: "missing" });
    const gone = await rig(["merge", join(tmp, "gone"), shardOut[1]!, shardOut[2]!, join(tmp, "shard-3")]);
    expect(gone.exitCode).toBe(3);
    expect(gone.stdout).toMatch(/shard-3: missing: no such directory/);
    expect(readFileSync(join(tmp, "gone", "report.html"), "utf8")).toContain("1 shard(s) without results");
  });

  it("--durations balances by an earlier result.json, and merge refuses shards that split differently", async () => {
    // An earlier nightly where boot-alpha took 100 s: it gets a shard to itself.
    const earlier = readJson(join(shardOut[1]!, "result.json"));
    const [alpha, charlie] = earlier.results;
    const file = join(tmp, "durations.json");
    writeFileSync(file, JSON.stringify({ ...earlier, results: [{ ...alpha, durationMs: 100_000 }, { ...charlie, durationMs: 1000 }, { ...alpha, scenario: "boot-bravo", durationMs: 1000 }] }));
    const out = join(tmp, "balanced-2");
    const r = await rig([SUITE, "--shard", "2/2", "--durations", file, "--out", out], { env: env() });
    expect(r.stdout).toContain("shard 2/2: boot-bravo, boot-charlie");
    expect(r.exitCode, r.all).toBe(1);
    // Shard 1 split by count, shard 2 by durations: boot-charlie twice, nothing checks out.
    const merged = await rig(["merge", join(tmp, "mixed"), shardOut[1]!, out]);
    expect(merged.exitCode, merged.all).toBe(3);
    expect(merged.stdout).toMatch(/split differently: split plan [0-9a-f]{16}, the others [0-9a-f]{16}/);
    const bad = await rig([SUITE, "--shard", "1/2", "--durations", join(tmp, "nowhere.json")]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--durations");
  });
});
