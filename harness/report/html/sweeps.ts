// The brick maps' data, from a run's sweep events: each point with where its cut landed (the
// cell's place), its outcome (the cell's colour) and its stretch of the run (what a click shows).
import type { EventOf, RunEvent, SweepAt } from "../../core/events.ts";
import { landingText } from "../../sweep/landing.ts";
import type { PageSweep } from "./model.ts";

export function sweepsOf(events: RunEvent[]): PageSweep[] {
  const sweeps = new Map<string, PageSweep>();
  const raw = new Map<string, EventOf<"sweep.point">[]>();
  for (const e of events) {
    if (e.type === "sweep.start") {
      sweeps.set(e.path, { name: e.name, path: e.path, board: e.board, allow: e.allow, axis: "point", points: [] });
      raw.set(e.path, []);
    } else if (e.type === "sweep.point") raw.get(e.path)?.push(e);
  }
  for (const [path, sweep] of sweeps) {
    const points = raw.get(path) ?? [];
    sweep.axis = axisOf(points.map((p) => p.at));
    sweep.points = points.map((p) => ({
      index: p.index,
      point: p.point,
      outcome: p.outcome,
      detail: p.detail,
      at: landingText(p.at),
      ...(p.at.area !== undefined ? { area: p.at.area } : {}),
      position: positionOf(sweep.axis, p.at, p.point),
      start: p.start,
      end: p.t,
      failed: p.failed,
    }));
    // A point whose cut never fired ends the map: the update was over before it.
    const end = Math.max(0, ...sweep.points.filter((_, i) => !points[i]!.at.not_reached).map((p) => p.position));
    sweep.points.forEach((p, i) => {
      if (points[i]!.at.not_reached) p.position = end;
    });
  }
  return [...sweeps.values()];
}

/** One measure for the whole map: the most exact one every landed point has. */
function axisOf(ats: SweepAt[]): PageSweep["axis"] {
  const landed = ats.filter((a) => !a.not_reached);
  if (landed.length === 0) return "point";
  if (landed.every((a) => a.written !== undefined)) return "bytes written";
  if (landed.every((a) => a.after_ms !== undefined)) return "ms after the line";
  if (landed.every((a) => a.nth !== undefined)) return "matching line";
  return "point";
}

function positionOf(axis: PageSweep["axis"], at: SweepAt, point: number): number {
  const value = axis === "bytes written" ? at.written : axis === "ms after the line" ? at.after_ms : axis === "matching line" ? at.nth : point;
  return value ?? point;
}
