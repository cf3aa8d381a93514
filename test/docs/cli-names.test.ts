// Every `rig` command and option README.md and docs/ name exists in the CLI's own help, every
// command and run option the CLI has is documented, and the `npm run` scripts and benchmarks
// the docs name exist.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandHelp } from "../../harness/cli/help.ts";
import { ROOT } from "../cli/helpers.ts";
import { checkCall, COMMANDS, expandOption, hasOption, TOP_LEVEL_OPTIONS } from "./cli-help.ts";
import { codeSpans, docFiles, lines } from "./markdown.ts";

interface Snippet {
  where: string;
  code: string;
}

/** The code of the docs: inline code spans, and the lines of fenced blocks that are not data (yaml, json, text). */
function codeSnippets(): Snippet[] {
  const out: Snippet[] = [];
  for (const file of docFiles()) {
    let data = false;
    for (const l of lines(file.text)) {
      const fence = /^\s*```\s*(\w*)/.exec(l.text);
      if (fence) data = /^(ya?ml|json|text)$/i.test(fence[1]!);
      // A shell comment is prose: `# …` at the start or after a blank.
      else if (l.fenced && !data) out.push({ where: `${file.path}:${l.line}`, code: l.text.replace(/(^|\s)#\s.*$/, "") });
    }
    for (const span of codeSpans(file.text)) out.push({ where: `${file.path}:${span.line}`, code: span.code });
  }
  return out;
}

/** `rig …`, `npx rig …` and `npm run rig -- …` calls in a snippet, as argument lists. */
function rigCalls(code: string): string[][] {
  const calls: string[][] = [];
  for (const segment of code.split(/\s\|\s|&&|;/)) {
    const m = /(?:^|[\s(`$])(?:npx rig|npm run rig --|rig)\s+(.+)$/.exec(` ${segment}`);
    if (!m) continue;
    // Strip quotes and brackets around words: `"rig run")`, `[--watch DUR]`.
    const args = m[1]!.trim().split(/\s+/).map((a) => a.replace(/^[[("']+|[\])"',.:]+$/g, "")).filter(Boolean);
    if (args[0] === "…" || args[0] === "...") continue; // `rig …`: a command line in general
    calls.push(args);
  }
  return calls;
}

/** `npm run <script>` names in a snippet. */
const npmScripts = (code: string) => [...code.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);

/** `npm run bench -- <names and options>` argument lists in a snippet. */
const benchCalls = (code: string) => [...code.matchAll(/npm run bench --((?:\s+[^\s#|&;]+)*)/g)].map((m) => m[1]!.trim().split(/\s+/).filter(Boolean));

describe("the docs name only what the CLI has", () => {
  const snippets = codeSnippets();

  it("every `rig` command and its options in README.md and docs/ exist in `rig help <command>`", () => {
    const failures: string[] = [];
    const seen = new Set<string>();
    for (const s of snippets) {
      for (const args of rigCalls(s.code)) {
        try {
          seen.add(checkCall(args));
        } catch (err) {
          failures.push(`${s.where}: ${(err as Error).message.split("\n")[0]}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // The extraction found the calls at all: the docs show most commands in use.
    expect(seen.size).toBeGreaterThan(8);
  });

  it("every option the docs put in code belongs to a rig command, the benchmarks or a named other tool", () => {
    // Options of other programs the docs quote: node, tsc, esptool, the QEMU and virtual-board programs, labgrid-client.
    const others = new Set(["--import", "--noEmit", "--port", "--disk", "--serial", "--shell"]);
    const bench = benchHelp();
    const allRig = [...COMMANDS].flatMap((c) => [c]).concat("run");
    const unknown: string[] = [];
    for (const s of snippets) {
      for (const m of s.code.matchAll(/(?:^|[\s[(])(--(?:\[no-\])?[a-z][\w-]*)/g)) {
        for (const opt of expandOption(m[1]!)) {
          const known = others.has(opt) || TOP_LEVEL_OPTIONS.has(opt) || allRig.some((c) => hasOption(c, opt)) || new RegExp(`^\\s+${opt}\\b`, "m").test(bench);
          if (!known) unknown.push(`${s.where}: ${opt}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it("every command `rig --help` lists is in the front door's command table", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## What each command is for"));
    const named = new Set(codeSpans(table).flatMap((c) => rigCalls(c.code).map((a) => a[0]!)));
    for (const command of [...COMMANDS].filter((c) => c !== "run" && c !== "help")) expect(named, `README.md's command table lacks rig ${command}`).toContain(command);
  });

  it("every run option `rig help run` lists is in docs/cli.md's option table, and no other", () => {
    const page = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
    const section = page.slice(page.indexOf("## Running scenarios"), page.indexOf("\n## ", page.indexOf("## Running scenarios") + 1));
    const documented = [...section.matchAll(/^\| `(--[\w-]+)/gm)].map((m) => m[1]!);
    const help = commandHelp("run");
    const listed = [...help.slice(help.indexOf("Run options:")).matchAll(/^\s+(--[\w-]+)/gm)].map((m) => m[1]!);
    expect(listed.length).toBeGreaterThan(10);
    expect(documented.sort()).toEqual(listed.sort());
  });

  it("the `npm run` scripts and benchmarks the docs name exist", () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    const bench = benchHelp();
    const benchmarks = new Set([...bench.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!));
    const failures: string[] = [];
    for (const s of snippets) {
      for (const name of npmScripts(s.code)) if (!scripts.includes(name)) failures.push(`${s.where}: npm run ${name}: no such script`);
      for (const args of benchCalls(s.code)) {
        for (const a of args.filter((x) => /^[a-z]/.test(x))) {
          if (!benchmarks.has(a) && !/^\d/.test(a)) failures.push(`${s.where}: no benchmark ${a}`);
        }
      }
    }
    expect(benchmarks.size).toBeGreaterThan(3);
    expect(failures).toEqual([]);
  });

  it("catches a command, a run option and a board-command option the CLI does not have", () => {
    expect(() => checkCall(rigCalls("rig powr rigs/virtual.yaml dut on")[0]!)).toThrow(/"powr" is no rig command/);
    expect(() => checkCall(rigCalls("npm run rig -- scenarios/ --shardd 1/2")[0]!)).toThrow(/rig run has no option --shardd/);
    expect(() => checkCall(rigCalls("rig reset rigs/virtual.yaml dut [--[no-]power-onn]")[0]!)).toThrow(/rig reset has no option --power-onn/);
    expect(checkCall(rigCalls("echo status | rig console rigs/virtual.yaml dut --no-power-on")[0]!)).toBe("console");
    expect(rigCalls("--rig rigs/qemu.yaml")).toEqual([]);
  });
});

let benchHelpText: string | undefined;
/** `npm run bench -- --help`, as the docs tell users to run it. */
function benchHelp(): string {
  benchHelpText ??= execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "bench/main.ts"), "--help"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return benchHelpText;
}
