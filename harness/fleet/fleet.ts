// A running fleet: this runner's simulated devices, their shared connection pool and the
// once-a-second sampler. Stop ends every device's loop, closes every socket and the sampler:
// nothing is left behind.
import { SimDevice } from "./device.ts";
import { HttpPool } from "./http-pool.ts";
import { emptyStates, FleetMetrics, type FleetSample, type FleetState, type FleetSummary } from "./metrics.ts";
import { seededRandom } from "../core/seeded-random.ts";
import { behavioursOf, sliceSerials, type Behaviour, type FleetSpec } from "./spec.ts";

export interface FleetTarget {
  /** the server's base url */
  server: string;
  vendor: string;
  model: string;
  /** the model's ota-backend firmware id */
  firmwareId: string;
  /** OTA_SECRET, when the server has one */
  secret?: string;
}

export interface FleetOptions {
  spec: FleetSpec;
  target: FleetTarget;
  /** ms since the run started, for samples */
  clock: () => number;
  onSample?: (sample: FleetSample) => void;
  sampleEveryMs?: number;
  /** exact behaviours per device (tests); default: by the spec's fractions */
  assign?: (serial: string) => Set<Behaviour>;
}

export class Fleet {
  readonly devices: SimDevice[];
  readonly metrics = new FleetMetrics();
  readonly serials: string[];
  private readonly pool: HttpPool;
  private readonly sleepers = new Set<() => void>();
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly sampler: NodeJS.Timeout;
  private readonly startedAt = performance.now();

  constructor(private readonly o: FleetOptions) {
    const { spec, target } = o;
    this.pool = new HttpPool({ server: target.server, connections: spec.connections, timeoutMs: spec.timeoutMs, metrics: this.metrics });
    this.serials = sliceSerials(spec);
    const random = seededRandom(spec.seed ^ spec.slice.index);
    const deps = {
      pool: this.pool,
      timing: spec.timing,
      firmwareId: target.firmwareId,
      vendor: target.vendor,
      model: target.model,
      ...(target.secret ? { secret: target.secret } : {}),
      random,
      sleep: (ms: number) => this.sleep(ms),
      stopped: () => this.stopping,
      now: () => performance.now() - this.startedAt,
    };
    this.devices = this.serials.map((sn) => new SimDevice(sn, o.assign ? o.assign(sn) : behavioursOf(spec, sn), deps));
    this.sampler = setInterval(() => this.takeSample(), o.sampleEveryMs ?? 1000);
    for (const d of this.devices) this.loops.push(d.run());
  }

  states(): Record<FleetState, number> {
    const s = emptyStates();
    for (const d of this.devices) s[d.state]++;
    return s;
  }

  summary(): FleetSummary {
    const { slice } = this.o.spec;
    return this.metrics.summary(this.devices.length, this.states(), slice.total > 1 ? `${slice.index}/${slice.total}` : undefined);
  }

  /** Every device's loop ended, every connection closed, the sampler stopped; the last sample taken. */
  async stop(): Promise<FleetSummary> {
    if (!this.stopping) {
      this.stopping = true;
      clearInterval(this.sampler);
      for (const wake of this.sleepers) wake();
      this.sleepers.clear();
      this.pool.close();
      await Promise.all(this.loops);
      this.takeSample();
    }
    return this.summary();
  }

  get stopped(): boolean {
    return this.stopping;
  }

  private takeSample(): void {
    const sample = this.metrics.sample(this.o.clock(), this.states());
    this.o.onSample?.(sample);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
