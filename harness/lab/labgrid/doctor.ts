// `rig doctor` for a labgrid board: does the coordinator answer, does the place exist (or some
// place match the tags), and is it free right now.
import type { LabgridPlaceSpec } from "../../board/spec.ts";
import { filterArgs, matchesFilter, parsePlaces } from "./parse.ts";
import { clientFor, placeFilter } from "./place.ts";

export interface LabgridCheck {
  ok: boolean;
  /** a place that exists but is held right now is fine (the run waits), just worth saying */
  held?: boolean;
  detail: string;
}

export async function checkLabgridPlace(spec: LabgridPlaceSpec): Promise<LabgridCheck> {
  const client = clientFor(spec);
  const coordinator = client.opts.coordinator;
  let lines: string[];
  try {
    lines = await client.run(["-v", "places"], { timeoutMs: 20_000 });
  } catch (err) {
    return { ok: false, detail: `labgrid coordinator ${coordinator} does not answer (${spec.client}): ${(err as Error).message.split("\n")[0]}` };
  }
  const filter = placeFilter(spec);
  const wanted = filterArgs(filter).join(" ");
  const places = parsePlaces(lines).filter((p) => matchesFilter(p, filter));
  if (places.length === 0) return { ok: false, detail: `coordinator ${coordinator} answers, but no place matches ${wanted}` };
  const free = places.filter((p) => !p.acquired && !p.reservation);
  if (free.length > 0) return { ok: true, detail: `coordinator ${coordinator}: place ${free.map((p) => p.name).join(", ")} (${wanted}) is free` };
  const holders = places.map((p) => `${p.name} held by ${p.acquired ?? `reservation ${p.reservation}`}`).join(", ");
  return { ok: true, held: true, detail: `coordinator ${coordinator}: ${holders} (a run waits for it)` };
}
