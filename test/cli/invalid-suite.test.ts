// CI always gets a report (issue 23 item 5): when a file of a suite does not load, nothing runs,
// yet junit.xml and the suite page hold an error testcase per invalid file at its position.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, ROOT, rig, tempDir } from "./helpers.ts";

describe("a suite with an invalid file", () => {
  it("writes junit.xml and report.html with an error testcase per invalid file, runs nothing, exits 2", async () => {
    const dir = tempDir("otarig-invalid-suite-");
    const suite = join(dir, "suite");
    const out = join(dir, "out");
    mkdirSync(suite);
    // the fixtures with their rig at its absolute path
    const copy = (from: string, to: string) => writeFileSync(join(suite, to), readFileSync(join(FIXTURES, from), "utf8").replace(/\.\.\/\.\.\/\.\.\//g, `${ROOT}/`));
    copy("misspelled-step.yaml", "a-misspelled.yaml");
    copy("never-matches.yaml", "b-valid.yaml");
    writeFileSync(join(suite, "c-unclosed.yaml"), "name: c\nsteps:\n  - wait: { for: 1s\n");
    const r = await rig([suite, "--out", out]);
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toMatch(/2 file\(s\) with errors; nothing was run/);

    // nothing ran: no run directory, no board log
    expect(readdirSync(out).sort()).toEqual(["junit.xml", "report.html"]);
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toMatch(/<testsuites name="otarig" tests="2" failures="0" errors="2"/);
    expect(junit).toMatch(/<testcase [^>]*name="a-misspelled"[^>]*>\s*<error message="[^"]*a-misspelled\.yaml:6:5: unknown step &quot;expct&quot;, did you mean &quot;expect&quot;\?" type="scenario">/);
    expect(junit).toMatch(/<testcase [^>]*name="c-unclosed"[^>]*>\s*<error message="[^"]*c-unclosed\.yaml:\d+:\d+: [^"]+" type="scenario">/);
    expect(junit).not.toContain("b-valid");
    const page = readFileSync(join(out, "report.html"), "utf8");
    expect(page).toContain("2 errors");
    expect(page).toMatch(/a-misspelled\.yaml:6:5: unknown step/);
    expect(existsSync(join(out, "a-misspelled"))).toBe(false);
  });
});
