// A fleet split over runners (`slice: i/n`), added up: `rig merge` puts one `fleet` over all
// the slices in the merged result.json. Counts add up; a p99 cannot be added, so the merged one
// is the highest slice's (an upper bound of the whole fleet's); series stay per slice.
import type { FleetSummary } from "./metrics.ts";

export type FleetTotals = Omit<FleetSummary, "series" | "slice"> & { slices: string[] };

const COUNTS = ["devices", "updated", "failed", "http_5xx", "reverted", "rejected", "requests", "bytes"] as const;
const HIGHEST = ["check_p99_ms", "check_p50_ms", "check_p95_ms", "download_p99_ms"] as const;

export function addFleets(fleets: Array<Omit<FleetSummary, "series">>): FleetTotals | undefined {
  if (fleets.length === 0) return undefined;
  const sum = (pick: (f: Omit<FleetSummary, "series">) => Record<string, number> | undefined) => {
    const out: Record<string, number> = {};
    for (const f of fleets) for (const [k, v] of Object.entries(pick(f) ?? {})) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const totals = {
    slices: fleets.map((f) => f.slice ?? "1/1"),
    errors: sum((f) => f.errors),
    network_errors: sum((f) => f.network_errors),
    states: sum((f) => f.states) as FleetSummary["states"],
  } as FleetTotals;
  for (const k of COUNTS) totals[k] = fleets.reduce((n, f) => n + (f[k] ?? 0), 0);
  for (const k of HIGHEST) totals[k] = Math.max(...fleets.map((f) => f[k] ?? 0));
  return totals;
}
