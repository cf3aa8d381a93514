// history.html (rig history): a row per scenario, a column per run, each cell coloured by its
// outcome and linking to that run's page for the scenario; per row, since when it fails, how
// flaky it is, and its duration over the window as a sparkline. One self-contained file (styles,
// script inline) that reads without its script too: the grid is plain HTML.
import { formatDuration } from "../../core/duration.ts";
import type { CellStatus, History, HistoryCell, HistoryRow, HistoryRun } from "../../lab/history.ts";
import { asset } from "./assets.ts";
import { esc } from "./escape.ts";

const CLASS: Record<CellStatus, string> = { passed: "p", failed: "f", error: "e", flaky: "k" };

export function renderHistoryPage(history: History): string {
  const { runs, scenarios } = history;
  const failing = scenarios.filter((s) => s.failingSince !== null).length;
  const flaky = scenarios.filter((s) => s.flakyRate > 0).length;
  const window = runs.length ? `${runs.length} runs, ${esc(day(runs[0]!.startedAt))} to ${esc(day(runs.at(-1)!.startedAt))}` : "no runs";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>otarig history: ${failing} failing, ${flaky} flaky, ${scenarios.length} scenarios</title>
<style>${asset("style.css")}${asset("history.css")}</style></head>
<body class="history-page">
<h1>otarig history</h1>
<p id="totals" class="totals">${window} · ${scenarios.length} scenarios · <span class="failed">${failing} failing now</span> · <span class="flaky">${flaky} flaky in the window</span></p>
<p class="legend"><span class="c p"></span> passed <span class="c k"></span> flaky (passed after a retry) <span class="c f"></span> failed <span class="c e"></span> error <span class="c n"></span> not run
 · <label><input type="checkbox" id="only-problems"> only scenarios that failed or were flaky</label>
 · <input type="search" id="filter" placeholder="filter scenarios"></p>
<div class="grid-wrap"><table id="history" class="history sortable">
<thead><tr><th>scenario</th><th>failing since</th><th>flaky</th><th>failed</th><th>duration</th>${runs.map(runHead).join("")}</tr></thead>
<tbody>
${scenarios.map((s) => row(s, runs)).join("\n")}
</tbody></table></div>
<script>${asset("suite-page.js")}${asset("history-page.js")}</script>
</body></html>
`;
}

function runHead(run: HistoryRun, i: number): string {
  const c = run.counts;
  const title = `${run.id} · ${run.startedAt} · ${c.passed} passed, ${c.flaky} flaky, ${c.failed} failed, ${c.error} errors`;
  const label = `${day(run.startedAt).slice(5)} #${i + 1}`;
  const bad = c.failed + c.error > 0 ? " bad" : "";
  return `<th class="run nosort${bad}" title="${esc(title)}">${run.report ? `<a href="${esc(run.report)}">${esc(label)}</a>` : esc(label)}</th>`;
}

function row(s: HistoryRow, runs: HistoryRun[]): string {
  const problem = s.failingSince !== null || s.flakyRate > 0 || s.failureRate > 0;
  const since = s.failingSince === null ? "" : runs[s.failingSince]!;
  const sinceCell =
    since === ""
      ? `<td data-sort="${runs.length}"></td>`
      : `<td class="failing-since failed" data-sort="${s.failingSince}" title="${esc(since.id)}">${esc(day(since.startedAt))} #${s.failingSince! + 1}</td>`;
  // the last run against the median, when it differs by 5% or more
  const trend = s.lastVsMedian === null || Math.abs(s.lastVsMedian) < 0.05 ? "" : ` <span class="${s.lastVsMedian > 0.2 ? "slower" : "dim"}">${s.lastVsMedian >= 0 ? "+" : ""}${Math.round(s.lastVsMedian * 100)}%</span>`;
  return (
    `<tr data-problem="${problem ? 1 : 0}"><td class="name" data-sort="${esc(s.scenario)}" title="${esc(s.file)}">${esc(s.scenario)}</td>${sinceCell}` +
    `<td data-sort="${s.flakyRate}">${pct(s.flakyRate)}</td><td data-sort="${s.failureRate}">${pct(s.failureRate)}</td>` +
    `<td class="trend" data-sort="${s.medianMs}" title="median ${formatDuration(s.medianMs)} over ${s.ran} runs">${sparkline(s.cells)}${formatDuration(s.medianMs)}${trend}</td>` +
    s.cells.map((c, i) => cell(c, runs[i]!)).join("") +
    `</tr>`
  );
}

function cell(c: HistoryCell | null, run: HistoryRun): string {
  if (!c) return `<td class="c n" title="${esc(run.id)}: not run"></td>`;
  const title = `${run.id} · ${c.status}${c.attempts > 1 ? ` after ${c.attempts} attempts` : ""} · ${formatDuration(c.durationMs)}${c.message ? ` · ${c.message}` : ""}`;
  const inner = c.report ? `<a href="${esc(c.report)}"></a>` : "";
  return `<td class="c ${CLASS[c.status]}" title="${esc(title)}">${inner}</td>`;
}

/** The durations of the runs it ran in, as a small line; failures as red dots. */
function sparkline(cells: Array<HistoryCell | null>): string {
  const present = cells.map((c, i) => ({ c, i })).filter((x): x is { c: HistoryCell; i: number } => x.c !== null);
  if (present.length < 2) return "";
  const w = 80;
  const h = 16;
  const max = Math.max(...present.map((p) => p.c.durationMs)) || 1;
  const x = (i: number) => ((i / Math.max(1, cells.length - 1)) * (w - 2) + 1).toFixed(1);
  const y = (ms: number) => (h - 1 - (ms / max) * (h - 2)).toFixed(1);
  const line = present.map((p) => `${x(p.i)},${y(p.c.durationMs)}`).join(" ");
  const dots = present
    .filter((p) => p.c.status === "failed" || p.c.status === "error")
    .map((p) => `<circle cx="${x(p.i)}" cy="${y(p.c.durationMs)}" r="1.8"/>`)
    .join("");
  return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><polyline points="${line}"/>${dots}</svg>`;
}

function pct(r: number): string {
  return r === 0 ? "" : `${Math.round(r * 100)}%`;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}
