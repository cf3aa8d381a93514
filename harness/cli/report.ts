// rig report <run dir>...: rebuilds report.html from a run directory's result.json and logs
// (after an upgrade, or from files copied off a lab runner). A suite directory gets its suite
// page, and each scenario under it its own page.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPORT_HELP } from "./lab-help.ts";
import { EXIT_CODES, ScenarioError } from "../core/errors.ts";
import { REPORT_FILE, writeRunPage, writeSuitePage } from "../report/html.ts";
import { readResultFile } from "../report/read-result.ts";


export async function reportCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(REPORT_HELP);
    return EXIT_CODES.pass;
  }
  const unknown = argv.find((a) => a.startsWith("-"));
  if (unknown) return usage(`unknown option ${unknown}`);
  if (argv.length === 0) return usage("no run directory given");
  let code: number = EXIT_CODES.pass;
  for (const dir of argv) {
    try {
      for (const page of rebuild(resolve(dir))) process.stdout.write(`${page}\n`);
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      process.stderr.write(`rig report: ${err.toString()}\n`);
      code = EXIT_CODES.scenario;
    }
  }
  return code;
}

/** Writes the pages of one run directory; returns their paths. */
export function rebuild(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ScenarioError(`${dir}: no such directory`);
  const file = join(dir, "result.json");
  if (!existsSync(file)) throw new ScenarioError(`${dir}: no result.json here (is it a run directory?)`);
  const read = readResultFile(file);
  if (read.kind === "scenario") return [writeRunPage(read.result, dir)];
  // A suite's results name their run dirs as they were on the machine that ran them; the
  // pages are rebuilt where the directories are now (dir/<scenario>/).
  const pages: string[] = [];
  const results = read.suite.results.map((r) => {
    const here = relocate(dir, r.runDir);
    if (existsSync(join(here, "result.json"))) pages.push(writeRunPage({ ...r, runDir: here }, here));
    return { ...r, runDir: here };
  });
  writeSuitePage(join(dir, REPORT_FILE), results, {
    ...(read.suite.shard ? { shard: read.suite.shard } : {}),
    ...(read.suite.shards ? { shards: read.suite.shards } : {}),
  });
  return [join(dir, REPORT_FILE), ...pages];
}

/** A scenario directory of a suite where it is now: the suite dir plus its last path part(s). */
function relocate(suiteDir: string, runDir: string): string {
  if (existsSync(join(runDir, "result.json")) && resolve(runDir).startsWith(suiteDir)) return runDir;
  const parts = runDir.split(/[\\/]/).filter(Boolean);
  for (let n = 1; n <= Math.min(3, parts.length); n++) {
    const candidate = join(suiteDir, ...parts.slice(-n));
    if (existsSync(join(candidate, "result.json"))) return candidate;
  }
  return join(suiteDir, parts.at(-1) ?? "");
}

function usage(message: string): number {
  process.stderr.write(`rig report: ${message}\n${REPORT_HELP}`);
  return EXIT_CODES.scenario;
}
