// rig history <run dir>... --out DIR: the nightly history of many runs (harness/lab/history.ts)
// as one page, history.html, and its data, history.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { EXIT_CODES } from "../core/errors.ts";
import { buildHistory, readRun } from "../lab/history.ts";
import { renderHistoryPage } from "../report/html/history-page.ts";
import { commandHelp } from "./help.ts";

export const HISTORY_PAGE = "history.html";
export const HISTORY_JSON = "history.json";

export async function historyCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: "boolean", short: "h", default: false }, out: { type: "string" } } });
  } catch (err) {
    return usage((err as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp("history"));
    return EXIT_CODES.pass;
  }
  const out = parsed.values.out;
  if (out === undefined) return usage("give the output directory: --out DIR");
  if (parsed.positionals.length === 0) return usage("give at least one run directory");

  const reads = parsed.positionals.map(readRun);
  const skipped = reads.filter((r) => r.skipped !== undefined);
  for (const s of skipped) process.stderr.write(`rig history: skipped ${s.dir}: ${s.skipped}\n`);
  if (skipped.length === reads.length) {
    process.stderr.write(`rig history: none of the ${reads.length} director${reads.length === 1 ? "y holds a run" : "ies holds a run"}; nothing written\n`);
    return EXIT_CODES.scenario;
  }
  const outDir = resolve(out);
  mkdirSync(outDir, { recursive: true });
  const history = buildHistory(reads, outDir);
  writeFileSync(join(outDir, HISTORY_JSON), `${JSON.stringify({ ...history, skipped: skipped.map((s) => ({ dir: s.dir, why: s.skipped })) }, null, 1)}\n`);
  writeFileSync(join(outDir, HISTORY_PAGE), renderHistoryPage(history));
  const failing = history.scenarios.filter((s) => s.failingSince !== null).length;
  const flaky = history.scenarios.filter((s) => s.flakyRate > 0).length;
  process.stdout.write(`${join(out, HISTORY_PAGE)}: ${history.runs.length} runs, ${history.scenarios.length} scenarios, ${failing} failing now, ${flaky} flaky\n`);
  return EXIT_CODES.pass;
}

function usage(message: string): number {
  process.stderr.write(`rig history: ${message}\n${commandHelp("history")}`);
  return EXIT_CODES.scenario;
}
