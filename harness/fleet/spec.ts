// What a fleet is: how many devices, their serials, this runner's slice of them, which of them
// misbehave and how, and the timing every device follows. Plain data, from fleet.start's params.
import { createHash } from "node:crypto";

/** The most devices one runner simulates (a bigger fleet is split across runners with `slice`). */
export const MAX_FLEET_DEVICES = 50_000;

export const BEHAVIOURS = ["drop", "never_confirm", "offline", "wrong_cik"] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export interface DeviceTiming {
  /** between update checks (and activation attempts), ± jitter */
  intervalMs: number;
  /** 0..1: each interval is intervalMs × (1 ± jitter) */
  jitter: number;
  /** bytes per Range request */
  chunkBytes: number;
  /** a device's download rate cap */
  rateBytesPerS: number;
  /** a dropped download resumes after this long */
  dropPauseMs: number;
  /** an offline device's window starts somewhere in the first offlineWithinMs and lasts offlineForMs */
  offlineWithinMs: number;
  offlineForMs: number;
  installMs: number;
  rebootMs: number;
  /** on trial before confirming */
  confirmMs: number;
  /** on trial before a never-confirming device reverts */
  trialMs: number;
  /** failed chunk requests in a row before a download fails */
  retries: number;
}

export interface FleetSpec {
  /** the whole fleet's size (all runners together) */
  count: number;
  /** serial = prefix + zero-padded index (1-based) */
  prefix: string;
  /** this runner's part: 1-based index of total */
  slice: { index: number; total: number };
  /** fractions of the fleet (0..1) */
  behaviours: Record<Behaviour, number>;
  timing: DeviceTiming;
  /** connections the fleet keeps open to the server */
  connections: number;
  /** one exchange (or the next chunk of a body) */
  timeoutMs: number;
  seed: number;
}

export function serialOf(spec: Pick<FleetSpec, "prefix" | "count">, i: number): string {
  return `${spec.prefix}${String(i).padStart(Math.max(5, String(spec.count).length), "0")}`;
}

/** The 1-based indexes of this runner's slice: contiguous, every index in exactly one slice. */
export function sliceRange(count: number, slice: { index: number; total: number }): { first: number; last: number } {
  const first = Math.floor(((slice.index - 1) * count) / slice.total) + 1;
  const last = Math.floor((slice.index * count) / slice.total);
  return { first, last };
}

/** This runner's serials. */
export function sliceSerials(spec: FleetSpec): string[] {
  const { first, last } = sliceRange(spec.count, spec.slice);
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, k) => serialOf(spec, first + k));
}

/**
 * Which behaviours a device has: a device has behaviour b when a hash of (seed, serial, b) falls
 * under b's fraction. Decided per serial, so the runners of a split fleet agree without talking,
 * and over a fleet the shares come out at the fractions.
 */
export function behavioursOf(spec: Pick<FleetSpec, "behaviours" | "seed">, serial: string): Set<Behaviour> {
  const out = new Set<Behaviour>();
  for (const b of BEHAVIOURS) {
    const f = spec.behaviours[b];
    if (f <= 0) continue;
    const h = createHash("sha256").update(`${spec.seed}:${serial}:${b}`).digest();
    if (h.readUInt32BE(0) / 4294967296 < f) out.add(b);
  }
  return out;
}

export const DEFAULT_TIMING: DeviceTiming = {
  intervalMs: 30_000,
  jitter: 0.5,
  chunkBytes: 256 * 1024,
  rateBytesPerS: 1024 * 1024,
  dropPauseMs: 2000,
  offlineWithinMs: 10_000,
  offlineForMs: 5000,
  installMs: 500,
  rebootMs: 500,
  confirmMs: 200,
  trialMs: 2000,
  retries: 8,
};

/** A spec with the defaults filled in: the one place they live (steps, tests and benches start here). */
export function fleetSpec(over: Partial<Omit<FleetSpec, "timing">> & { count: number; timing?: Partial<DeviceTiming> }): FleetSpec {
  return {
    prefix: "SIM-",
    slice: { index: 1, total: 1 },
    behaviours: { drop: 0, never_confirm: 0, offline: 0, wrong_cik: 0 },
    connections: 64,
    timeoutMs: 30_000,
    seed: 1,
    ...over,
    timing: { ...DEFAULT_TIMING, ...over.timing },
  };
}
