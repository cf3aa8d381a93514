// fleet.wait and assert.fleet: bounds on a fleet's figures, and the one line that says where
// the fleet stands when a bound does not hold.
import { FLEET_FIGURES, FLEET_STATES, type FleetFigure, type FleetSummary } from "./metrics.ts";
import { holds, parseCondition } from "./units.ts";

export type Bounds = Partial<Record<FleetFigure, string | number>>;

/** The bounds that do not hold, each as "updated 1890 (94.5%), expected >= 99%". */
export function unmet(summary: Omit<FleetSummary, "series">, bounds: Bounds): string[] {
  const out: string[] = [];
  for (const figure of FLEET_FIGURES) {
    const raw = bounds[figure];
    if (raw === undefined) continue;
    const c = parseCondition(raw);
    if (!c) throw new Error(`${figure}: not a bound: ${String(raw)}`); // the schema refuses these first
    const actual = summary[figure];
    if (!holds(c, actual, summary.devices)) out.push(`${figure} ${show(figure, actual, summary.devices)}, expected ${c.text}`);
  }
  return out;
}

function show(figure: FleetFigure, value: number, devices: number): string {
  if (figure.endsWith("_ms")) return `${value} ms`;
  if (figure === "http_5xx") return String(value);
  return `${value} (${devices ? ((value / devices) * 100).toFixed(1) : "0"}%)`;
}

/** "2000 devices: updated 1990, downloading 4, …; 5xx 0; check p99 12.3 ms" */
export function standing(summary: Omit<FleetSummary, "series">): string {
  const states = FLEET_STATES.filter((s) => summary.states[s] > 0).map((s) => `${s} ${summary.states[s]}`);
  const errors = Object.entries(summary.errors).map(([k, v]) => `${k}: ${v}`);
  return (
    `${summary.devices} devices: ${states.join(", ") || "none"}; http 5xx ${summary.http_5xx}` +
    `${errors.length ? ` (errors by status ${errors.join(", ")})` : ""}; check p99 ${summary.check_p99_ms} ms`
  );
}
