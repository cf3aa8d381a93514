// Nightly history (rig history): the results of many runs side by side. Each run (a scenario's
// run directory, a directory run, a shard or a merge) is read from its result.json as rig merge
// reads it; the model is a row per scenario and a column per run, with what a QA lead asks of a
// window of nights: which cells failed, since when a scenario fails, how flaky it is, how its
// duration moves. Plain data: history.json is this model, the page renders it.
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ScenarioError } from "../core/errors.ts";
import { REPORT_FILE } from "../report/html.ts";
import { hrefOf } from "../report/html/extract.ts";
import { readResultFile, resultsOf, type ReadResult } from "../report/read-result.ts";
import { locate } from "./merge.ts";

/** passed; failed (a test failure); error (infrastructure, scenario error, interrupted, did not finish); flaky (passed after a retry). */
export type CellStatus = "passed" | "failed" | "error" | "flaky";

export interface HistoryRun {
  /** the directory's name, as the column is labelled */
  id: string;
  /** the directory as given */
  dir: string;
  /** the earliest start of its scenarios (ISO) */
  startedAt: string;
  /** link from the history page to the run's own page, if it has one */
  report?: string;
  counts: Record<CellStatus, number>;
}

export interface HistoryCell {
  status: CellStatus;
  durationMs: number;
  attempts: number;
  /** link from the history page to this scenario's page in that run */
  report?: string;
  /** first line of the failure, when not passed */
  message?: string;
}

export interface HistoryRow {
  scenario: string;
  file: string;
  /** one per run, in the runs' order; null: the scenario did not run that night */
  cells: Array<HistoryCell | null>;
  /** runs it ran in */
  ran: number;
  /** share of those in which it passed only after a retry */
  flakyRate: number;
  /** share of those in which it failed or errored */
  failureRate: number;
  /** when its last run did not pass: the run (index into runs) where that streak began */
  failingSince: number | null;
  /** median duration over the window, and the last run's against it (+0.25 = a quarter slower) */
  medianMs: number;
  lastVsMedian: number | null;
}

export interface History {
  runs: HistoryRun[];
  scenarios: HistoryRow[];
}

/** One run directory read: its results, or why it holds no run. */
export interface RunRead {
  dir: string;
  results?: ReadResult[];
  /** where each result's scenario directory is now (same order), if found */
  scenarioDirs?: Array<string | undefined>;
  skipped?: string;
}

/** Reads a run, directory run, shard or merged directory. */
export function readRun(dir: string): RunRead {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return { dir, skipped: "no such directory" };
  const file = join(abs, "result.json");
  if (!existsSync(file)) return { dir, skipped: "no result.json here (not a run directory)" };
  try {
    const read = readResultFile(file);
    const results = resultsOf(read);
    if (results.length === 0) return { dir, skipped: "its result.json holds no scenario" };
    const scenarioDirs = read.kind === "scenario" ? [abs] : results.map((r) => locate(abs, r));
    return { dir, results, scenarioDirs };
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return { dir, skipped: err.toString() };
  }
}

/** How many times the scenario ran that night: its attempts (or, in older results, its retries plus one). */
function attemptsOf(r: Pick<ReadResult, "attempts" | "retries">): number {
  return Math.max(r.attempts?.length ?? 1, r.retries.length + 1);
}

export function cellStatus(r: Pick<ReadResult, "status" | "failureClass" | "attempts" | "retries">): CellStatus {
  if (r.status === "passed") return attemptsOf(r) > 1 ? "flaky" : "passed";
  if (r.status === "failed" && r.failureClass === "test") return "failed";
  return "error";
}

const NOT_PASSED = new Set<CellStatus>(["failed", "error"]);

/** The history of runs that were read (skipped ones left out), columns in the order the runs started. */
export function buildHistory(reads: RunRead[], pageDir: string): History {
  const ordered = reads
    .filter((r): r is Required<Pick<RunRead, "results" | "scenarioDirs">> & RunRead => r.results !== undefined)
    .map((r, i) => ({ read: r, i, startedAt: r.results.map((x) => x.startedAt).sort()[0] ?? "" }))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.i - b.i);

  const rows = new Map<string, HistoryRow>();
  const link = pageLinks(pageDir);
  const runs: HistoryRun[] = ordered.map(({ read, startedAt }, col) => {
    const counts: Record<CellStatus, number> = { passed: 0, failed: 0, error: 0, flaky: 0 };
    const runPage = join(resolve(read.dir), REPORT_FILE);
    read.results.forEach((r, k) => {
      let row = rows.get(r.scenario);
      if (!row) {
        row = { scenario: r.scenario, file: r.file, cells: new Array<HistoryCell | null>(ordered.length).fill(null), ran: 0, flakyRate: 0, failureRate: 0, failingSince: null, medianMs: 0, lastVsMedian: null };
        rows.set(r.scenario, row);
      }
      if (row.cells[col]) return; // the same scenario twice in one run: the first counts
      const dirOf = read.scenarioDirs[k];
      const cell = cellOf(r, dirOf ? link(dirOf) : undefined);
      row.cells[col] = cell;
      counts[cell.status]++;
    });
    return { id: basename(resolve(read.dir)), dir: read.dir, startedAt, ...(existsSync(runPage) ? { report: hrefOf(pageDir, runPage) } : {}), counts };
  });
  for (const row of rows.values()) summarise(row);
  return { runs, scenarios: [...rows.values()].sort(problemsFirst) };
}

/**
 * Links from the history page to the report.html of scenario directories (they have one: a
 * run writes it with result.json). hrefOf per directory's parent once: thousands of cells.
 */
function pageLinks(pageDir: string): (scenarioDir: string) => string {
  const parents = new Map<string, string>();
  return (scenarioDir) => {
    const parent = dirname(scenarioDir);
    let prefix = parents.get(parent);
    if (prefix === undefined) {
      prefix = parent === pageDir ? "" : `${hrefOf(pageDir, parent)}/`;
      parents.set(parent, prefix);
    }
    return `${prefix}${encodeURIComponent(basename(scenarioDir))}/${REPORT_FILE}`;
  };
}

function cellOf(r: ReadResult, report: string | undefined): HistoryCell {
  const status = cellStatus(r);
  const message = status === "passed" || status === "flaky" ? undefined : firstLine(r.message ?? r.attempts?.at(-1)?.failure?.message ?? r.status);
  return {
    status,
    durationMs: r.durationMs,
    attempts: attemptsOf(r),
    ...(report ? { report } : {}),
    ...(message ? { message } : {}),
  };
}

function firstLine(text: string): string {
  const line = text.split("\n")[0]!;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

function summarise(row: HistoryRow): void {
  const present = row.cells.filter((c): c is HistoryCell => c !== null);
  row.ran = present.length;
  row.flakyRate = ratio(present.filter((c) => c.status === "flaky").length, present.length);
  row.failureRate = ratio(present.filter((c) => NOT_PASSED.has(c.status)).length, present.length);
  // The streak of not-passing runs that the last run belongs to, if it did not pass.
  let since: number | null = null;
  for (let col = row.cells.length - 1; col >= 0; col--) {
    const c = row.cells[col];
    if (!c) continue;
    if (!NOT_PASSED.has(c.status)) break;
    since = col;
  }
  row.failingSince = since;
  const durations = present.map((c) => c.durationMs).sort((a, b) => a - b);
  row.medianMs = durations.length ? durations[Math.floor((durations.length - 1) / 2)]! : 0;
  const last = present.at(-1);
  row.lastVsMedian = last && row.medianMs > 0 && present.length > 1 ? Math.round((last.durationMs / row.medianMs - 1) * 100) / 100 : null;
}

function ratio(n: number, of: number): number {
  return of === 0 ? 0 : Math.round((n / of) * 1000) / 1000;
}

/** Failing now (longest streak first), then flaky (most first), then the rest; by name within. */
function problemsFirst(a: HistoryRow, b: HistoryRow): number {
  const rank = (r: HistoryRow) => (r.failingSince !== null ? 0 : r.flakyRate > 0 || r.failureRate > 0 ? 1 : 2);
  return (
    rank(a) - rank(b) ||
    (a.failingSince ?? 0) - (b.failingSince ?? 0) ||
    b.flakyRate + b.failureRate - (a.flakyRate + a.failureRate) ||
    a.scenario.localeCompare(b.scenario)
  );
}
