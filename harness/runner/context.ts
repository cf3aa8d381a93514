// What a step implementation gets to work with. Plain typed objects; no YAML past the loader.
import type { EventBus } from "../core/events.ts";
import type { Scenario, Step } from "../scenario/types.ts";
import type { BoardHandle } from "./board-handle.ts";
import type { OtaServer } from "../server/types.ts";
import type { NetworkProxy } from "../faults/network-proxy.ts";
import type { BrowserSlot } from "../browser/slot.ts";
import type { FatalWatch } from "./fatal-watch.ts";
import type { Fleet } from "../fleet/fleet.ts";
import type { FleetSummary } from "../fleet/metrics.ts";
import type { ConsoleWindows } from "./console-windows.ts";
import type { ConsolePosition } from "../board/types.ts";
import type { CutLanding } from "../faults/cut-trigger.ts";

export interface RunContext {
  scenario: Scenario;
  bus: EventBus;
  boards: Map<string, BoardHandle>;
  server: OtaServer;
  /** values steps produced: expect captures, `set`, "fw.id", "dut.hash"; dotted names are flat keys */
  outputs: Map<string, string>;
  /** ota-backend firmware credentials by the name a scenario gave them; the key is secret, never a var */
  firmwares: Map<string, { id: number; key: string }>;
  /** vendor.upload names -> artifact uuid; vendor.deploy artifact names -> deployment id */
  artifacts: Map<string, string>;
  deployments: Map<string, string>;
  runDir: string;
  /** aborted on SIGINT: waits must stop promptly */
  signal: AbortSignal;
  /** run at teardown, before the boards close (disarms fault watchers a step left behind) */
  deferred: Array<() => void | Promise<void>>;
  /** per board: the seq of the line the last expect or device step matched (for `since: match`) */
  lastMatch: Map<string, number>;
  /** per board: where an expect's default window starts (what was consumed, the last action) */
  windows: ConsoleWindows;
  /** each board's TCP proxy to the server (its address is ${boards.<b>.server_url}) */
  proxies: Map<string, NetworkProxy>;
  /** the run's browser, started by its first browser step */
  browser: BrowserSlot;
  /** a failure of something a step left running (an armed power cut whose relay failed): fails the run at the next step */
  background: { failure?: unknown };
  /** fails the running step when a board prints a fatal line (panic, watchdog) */
  fatal?: FatalWatch;
  /** the simulated fleet fleet.start started (stopped at teardown) */
  fleet: { running?: { fleet: Fleet; model: string }; stopped?: FleetSummary };
  /** inside a sweep point: told when a power cut fires (the promise: power back on, where it landed) */
  sweepPoint?: { onCut(done: Promise<CutLanding>): void };
  /** after a server restart: points the boards' network proxies at the server's (new) address */
  onServerMoved?: (url: string) => void | Promise<void>;
}

export interface StepContext extends RunContext {
  step: Step;
  /** "3", or "5.2" inside a block */
  path: string;
  timeoutMs: number;
  /** each board's console mark taken when the step started: "output since the step started" */
  marks: Map<string, ConsolePosition>;
  /** this step acts on the board (sends, switches, flashes): the default expect window starts no earlier than this step */
  acted(board: string): void;
  /** looks a board up by name; throws a ScenarioError naming the known boards */
  handle(name: string): BoardHandle;
  progress(message: string, fraction?: number, board?: string): void;
  log(level: "info" | "warn" | "error", message: string): void;
}

/** What a step reports besides pass/fail (shown in the terminal and result.json). */
export interface StepOutcome {
  detail?: string;
}

export type StepImpl<P = any> = (ctx: StepContext, params: P) => Promise<StepOutcome | void>;
