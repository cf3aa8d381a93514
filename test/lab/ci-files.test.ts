// The CI files a lab copies (docs/ci/): they parse, shard the way rig expects, and every rig
// command and option they run exists in the CLI.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../cli/helpers.ts";
import { checkCall } from "../docs/cli-help.ts";

const load = (name: string) => parse(readFileSync(join(ROOT, "docs/ci", name), "utf8"));

/** `npx rig …` invocations in shell text (continuation lines joined), as argument lists. */
function rigCalls(script: string): string[][] {
  const joined = script.replace(/\\\n\s*/g, " ");
  return [...joined.matchAll(/(?:npx rig|npm run rig --) ([^\n]+)/g)].map((m) => m[1]!.trim().split(/\s+/));
}

describe("docs/ci", () => {
  it("GitHub Actions: a shard per bench label in a matrix, artifacts, a merge job publishing JUnit and the report", () => {
    const wf = load("github-actions-nightly.yml");
    const shard = wf.jobs.shard;
    const include: Array<{ shard: number; bench: string }> = shard.strategy.matrix.include;
    expect(include.map((e) => e.shard)).toEqual(include.map((_, i) => i + 1));
    expect(Number(wf.env.SHARDS)).toBe(include.length);
    expect(new Set(include.map((e) => e.bench)).size).toBe(include.length);
    expect(shard["runs-on"]).toEqual(expect.arrayContaining(["self-hosted", "${{ matrix.bench }}"]));
    expect(shard.strategy["fail-fast"]).toBe(false);
    const runs = (job: { steps: Array<{ run?: string }> }) => job.steps.flatMap((s) => (s.run ? rigCalls(s.run) : []));
    const shardCalls = runs(shard);
    expect(shardCalls.map(checkCall)).toEqual(["doctor", "run"]);
    const run = shardCalls[1]!.join(" ");
    expect(run).toContain("--shard ${{ matrix.shard }}/$SHARDS");
    expect(run).toContain("--out runs/shard-${{ matrix.shard }}");
    const upload = shard.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/upload-artifact"));
    expect(upload.if).toBe("always()");
    expect(upload.with.path).toBe("runs/shard-${{ matrix.shard }}/");

    const merge = wf.jobs.merge;
    expect(merge.needs).toBe("shard");
    expect(merge.if).toBe("always()");
    expect(runs(merge).map(checkCall)).toEqual(["merge"]);
    const junit = merge.steps.find((s: { uses?: string }) => s.uses?.startsWith("mikepenz/action-junit-report"));
    expect(junit.with.report_paths).toBe("runs/nightly/junit.xml");
    expect(merge.steps.some((s: { uses?: string; with?: { path?: string } }) => s.uses?.startsWith("actions/upload-artifact") && s.with?.path === "runs/nightly/")).toBe(true);
  });

  it("GitLab CI: parallel jobs map CI_NODE_INDEX/CI_NODE_TOTAL to --shard; the merge job publishes JUnit and the report", () => {
    const ci = load("gitlab-ci-nightly.yml");
    const shard = ci["otarig-shard"];
    expect(shard.parallel).toBe(Number(ci.variables.SHARDS));
    const shardCalls = (shard.script as string[]).flatMap(rigCalls);
    expect(shardCalls.map(checkCall)).toEqual(["doctor", "run"]);
    expect(shardCalls[1]!.join(" ")).toContain('--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"');
    expect(shard.artifacts.when).toBe("always");
    expect(shard.artifacts.reports.junit).toBe("runs/shard-*/junit.xml");

    const merge = ci["otarig-merge"];
    expect(merge.needs).toEqual([{ job: "otarig-shard", artifacts: true }]);
    expect(merge.rules[0].when).toBe("always");
    const mergeCalls = (merge.script as string[]).flatMap(rigCalls);
    expect(mergeCalls.map(checkCall)).toEqual(["merge"]);
    expect(merge.artifacts.reports.junit).toBe("runs/nightly/junit.xml");
    expect(merge.artifacts.paths).toEqual(["runs/nightly/"]);
    expect(ci.stages.indexOf(merge.stage)).toBeGreaterThan(ci.stages.indexOf(shard.stage));
  });

  it("catches a command or option the CLI does not have", () => {
    expect(() => checkCall(["scenarios/", "--shardd", "1/2"])).toThrow(/no option --shardd/);
    expect(() => checkCall(["merge", "out", "--durations", "x"])).toThrow(/no option --durations/);
  });
});
