// The brick map of each power-cut sweep: a track with a cell per point, placed by where its cut
// landed and coloured by what the board booted after it, over a band naming the area (download,
// install) the cut landed in; then the points as a table. Drawn here, so it reads without
// scripts; assets/brick-map.js makes a click on a cell select that point's stretch of the run.
import { esc } from "./escape.ts";
import type { PageSweep } from "./model.ts";

export function renderBrickMaps(sweeps: PageSweep[]): string {
  if (sweeps.length === 0) return "";
  return `<section id="sweeps-section"><h2>power-cut sweeps</h2>
<p class="dim">A cell per point, placed by where its cut landed, coloured by what the board booted after it:
<span class="legend old">old</span> <span class="legend new">new</span> <span class="legend bricked">bricked</span> <span class="legend other">other</span>.
A click shows that point's console and timeline.</p>
${sweeps.map(renderMap).join("\n")}</section>`;
}

function renderMap(sweep: PageSweep): string {
  const counts = (["old", "new", "bricked", "other"] as const).map((o) => [o, sweep.points.filter((p) => p.outcome === o).length] as const).filter(([, n]) => n);
  const positions = sweep.points.map((p) => p.position);
  const lo = Math.min(...positions);
  const hi = Math.max(...positions);
  const width = Math.max(0.6, Math.min(4, 100 / Math.max(1, sweep.points.length)));
  const x = (pos: number) => (hi > lo ? ((pos - lo) / (hi - lo)) * (100 - width) : 0);
  const cells = sweep.points
    .map((p) => {
      const tip = `point ${p.index} (${p.point}): ${p.outcome}${p.failed ? " (not allowed)" : ""}\n${p.at}\n${p.detail}`;
      return `<button type="button" class="cell ${p.outcome}${p.failed ? " failed" : ""}" style="left:${x(p.position).toFixed(3)}%;width:${width.toFixed(3)}%" data-sweep="${esc(sweep.path)}" data-index="${p.index}" data-outcome="${p.outcome}" data-t0="${p.start}" data-t1="${p.end}" data-board="${esc(sweep.board)}" title="${esc(tip)}" aria-label="${esc(`point ${p.index}: ${p.outcome}, ${p.at}`)}"></button>`;
    })
    .join("");
  const rows = sweep.points
    .map((p) => `<tr class="${p.outcome}${p.failed ? " failed" : ""}" data-index="${p.index}"><td>${p.index}</td><td>${esc(String(p.point))}</td><td>${esc(p.at)}</td><td class="outcome">${p.outcome}</td><td>${esc(p.detail)}</td></tr>`)
    .join("");
  return `<div class="sweep" data-sweep="${esc(sweep.path)}"><h3>${esc(sweep.name)} <span class="dim">on ${esc(sweep.board)}: ${counts.map(([o, n]) => `${n} ${o}`).join(", ")}; allowed: ${esc(sweep.allow.join(", "))}</span></h3>
<div class="brick-map"><div class="areas">${areaBands(sweep, x, width)}</div><div class="cells">${cells}</div><div class="axis-label dim">${esc(sweep.axis)}: ${lo} – ${hi}</div></div>
<details><summary>the points</summary><table class="points"><tr><th>#</th><th>point</th><th>where the cut landed</th><th>outcome</th><th>detail</th></tr>${rows}</table></details></div>`;
}

/** Runs of neighbouring points whose cut landed in the same area, as labelled bands. */
function areaBands(sweep: PageSweep, x: (pos: number) => number, width: number): string {
  const sorted = [...sweep.points].sort((a, b) => a.position - b.position);
  const bands: Array<{ area: string; from: number; to: number }> = [];
  for (const p of sorted) {
    if (p.area === undefined) continue;
    const last = bands.at(-1);
    if (last && last.area === p.area) last.to = p.position;
    else bands.push({ area: p.area, from: p.position, to: p.position });
  }
  return bands
    .map((b) => `<div class="area" data-area="${esc(b.area)}" style="left:${x(b.from).toFixed(3)}%;width:${(x(b.to) - x(b.from) + width).toFixed(3)}%">${esc(b.area)}</div>`)
    .join("");
}
