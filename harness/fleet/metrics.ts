// The fleet's measurements: every exchange (endpoint, status, latency, bytes) and every device's
// state, folded into one sample per second and a summary for result.json. Latencies go into
// log-scale histograms (about 2 % wide buckets), so a run of any length keeps constant memory.

export const ENDPOINTS = ["activate", "check", "download", "status"] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/**
 * Where a simulated device is. `idle`: activated or waiting to be, checking at its interval and
 * not (yet) updated; `installing` covers installing, rebooting and the trial boot; `offline`:
 * out of reach (an offline window or a dropped download waiting to resume).
 */
export const FLEET_STATES = ["idle", "downloading", "installing", "offline", "updated", "reverted", "failed", "rejected"] as const;
export type FleetState = (typeof FLEET_STATES)[number];

/** The figures of a FleetSummary that fleet.wait and assert.fleet take bounds on. */
export const FLEET_FIGURES = [
  "updated",
  "failed",
  "reverted",
  "rejected",
  "http_5xx",
  "check_p50_ms",
  "check_p95_ms",
  "check_p99_ms",
  "download_p99_ms",
] as const;
export type FleetFigure = (typeof FLEET_FIGURES)[number];

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** One second of the fleet. `t`: ms since the run started. */
export interface FleetSample {
  t: number;
  states: Record<FleetState, number>;
  /** requests answered in this second, by endpoint */
  rps: Record<Endpoint, number>;
  /** ms, by endpoint, for endpoints with answers in this second */
  latency: Partial<Record<Endpoint, Percentiles>>;
  /** answers ≥ 400 by status, and "network" for exchanges that got no answer */
  errors: Record<string, number>;
  /** body bytes received */
  bytes: number;
}

/** result.json `fleet` (these names are a contract: CI parses them). */
export interface FleetSummary {
  devices: number;
  updated: number;
  failed: number;
  http_5xx: number;
  check_p99_ms: number;
  check_p50_ms: number;
  check_p95_ms: number;
  download_p99_ms: number;
  reverted: number;
  rejected: number;
  requests: number;
  bytes: number;
  /** answers ≥ 400 by status, and "network" */
  errors: Record<string, number>;
  /** the exchanges counted as "network", by what went wrong (ECONNRESET, timeout, …) */
  network_errors: Record<string, number>;
  /** devices by state at the end */
  states: Record<FleetState, number>;
  /** this runner's part of a fleet split across runners: "i/n" */
  slice?: string;
  series: FleetSample[];
}

const BASE = 1.02;
const MIN_MS = 0.05;

class Histogram {
  private readonly counts = new Map<number, number>();
  private n = 0;

  add(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.ceil(Math.log(ms / MIN_MS) / Math.log(BASE));
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.n++;
  }

  get size(): number {
    return this.n;
  }

  /** The upper bound of the bucket holding the q-quantile (0 when empty). */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i)!;
      if (seen >= rank) return round(MIN_MS * BASE ** i);
    }
    return 0;
  }

  percentiles(): Percentiles {
    return { p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function zero<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export class FleetMetrics {
  private readonly total = new Map<Endpoint, Histogram>(ENDPOINTS.map((e) => [e, new Histogram()]));
  private second = new Map<Endpoint, Histogram>();
  private secondErrors: Record<string, number> = {};
  private secondBytes = 0;
  private readonly errors: Record<string, number> = {};
  private readonly networkErrors: Record<string, number> = {};
  private requests = 0;
  private allBytes = 0;
  readonly series: FleetSample[] = [];

  answered(endpoint: Endpoint, status: number, ms: number, bytes: number): void {
    this.requests++;
    this.total.get(endpoint)!.add(ms);
    let h = this.second.get(endpoint);
    if (!h) this.second.set(endpoint, (h = new Histogram()));
    h.add(ms);
    this.bytes(bytes);
    if (status >= 400) this.error(String(status));
  }

  /** An exchange that got no answer (refused, reset, timed out). */
  failed(_endpoint: Endpoint, why: string): void {
    this.requests++;
    this.error("network");
    this.networkErrors[why] = (this.networkErrors[why] ?? 0) + 1;
  }

  /** Body bytes received (also of exchanges dropped on purpose). */
  bytes(n: number): void {
    this.secondBytes += n;
    this.allBytes += n;
  }

  private error(key: string): void {
    this.errors[key] = (this.errors[key] ?? 0) + 1;
    this.secondErrors[key] = (this.secondErrors[key] ?? 0) + 1;
  }

  /** Closes the current second: its sample, with the devices' states now. */
  sample(t: number, states: Record<FleetState, number>): FleetSample {
    const rps = zero(ENDPOINTS);
    const latency: FleetSample["latency"] = {};
    for (const [e, h] of this.second) {
      rps[e] = h.size;
      latency[e] = h.percentiles();
    }
    const s: FleetSample = { t, states: { ...states }, rps, latency, errors: this.secondErrors, bytes: this.secondBytes };
    this.series.push(s);
    this.second = new Map();
    this.secondErrors = {};
    this.secondBytes = 0;
    return s;
  }

  summary(devices: number, states: Record<FleetState, number>, slice?: string): FleetSummary {
    const check = this.total.get("check")!;
    const http5xx = Object.entries(this.errors).reduce((n, [k, v]) => (/^5\d\d$/.test(k) ? n + v : n), 0);
    return {
      devices,
      updated: states.updated,
      failed: states.failed,
      http_5xx: http5xx,
      check_p99_ms: check.quantile(0.99),
      check_p50_ms: check.quantile(0.5),
      check_p95_ms: check.quantile(0.95),
      download_p99_ms: this.total.get("download")!.quantile(0.99),
      reverted: states.reverted,
      rejected: states.rejected,
      requests: this.requests,
      bytes: this.allBytes,
      errors: { ...this.errors },
      network_errors: { ...this.networkErrors },
      states: { ...states },
      ...(slice ? { slice } : {}),
      series: this.series,
    };
  }
}

export function emptyStates(): Record<FleetState, number> {
  return zero(FLEET_STATES);
}
