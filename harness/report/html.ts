// report.html: a run's own page (header, timeline, requests, console; html/run-page.ts) in the
// run's directory, or a suite page (html/suite-page.ts) over several runs. Both are one
// self-contained file (inline CSS and JS, no network) that opens from file://.
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ReadResult } from "./read-result.ts";
import { extractPageData } from "./html/extract.ts";
import { renderRunPage } from "./html/run-page.ts";
import { renderSuitePage, type SuitePageOptions } from "./html/suite-page.ts";

export const REPORT_FILE = "report.html";

/** The page of one run, drawn from its result and the files in its directory. */
export function writeRunPage(result: ReadResult, runDir = result.runDir): string {
  const file = resolve(runDir, REPORT_FILE);
  writeFileSync(file, renderRunPage(runDirResult(result, runDir), extractPageData(result, runDir)));
  return file;
}

export function writeSuitePage(file: string, results: ReadResult[], options: SuitePageOptions = {}): void {
  writeFileSync(file, renderSuitePage(results, dirname(resolve(file)), options));
}

/**
 * The page at `file`: a run's own page when `file` is in that run's directory, else the
 * suite page over `results`.
 */
export function writeHtml(file: string, results: ReadResult[], options: SuitePageOptions = {}): void {
  const only = results.length === 1 ? results[0]! : undefined;
  if (only && resolve(only.runDir) === dirname(resolve(file))) writeRunPage(only);
  else writeSuitePage(file, results, options);
}

function runDirResult(result: ReadResult, runDir: string): ReadResult {
  return resolve(result.runDir) === resolve(runDir) ? result : { ...result, runDir };
}
