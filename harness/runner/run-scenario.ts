// Runs one scenario: locks, server, boards, steps in order with timeouts, and a teardown that
// always runs. Reports are the subscribers' business; this only emits events.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseDuration } from "../core/duration.ts";
import { EXIT_CODES, InfraError, OtarigError, ScenarioError, TestFailure, failureClassOf, type FailureClass } from "../core/errors.ts";
import type { EventBus, EventOf } from "../core/events.ts";
import type { BoardProfile, RigSpec, Scenario, Step } from "../scenario/types.ts";
import { startOtaServer } from "../server/start.ts";
import type { OtaServer } from "../server/types.ts";
import { openRigSession, type RigSession } from "./rig-session.ts";
import type { NetworkProxy } from "../faults/network-proxy.ts";
import { resolveBenchAddress } from "../board/network/address.ts";
import { startBoardProxies } from "./board-proxies.ts";
import type { RunContext, StepContext, StepOutcome } from "./context.ts";
import { describeStep } from "./describe.ts";
import { interpolateStep } from "./variables.ts";
import { STEP_IMPLS } from "./steps/index.ts";
import { checkStepParams } from "../scenario/step-check.ts";
import type { StepName } from "../scenario/steps.ts";

export interface RunOptions {
  scenario: Scenario;
  rig: RigSpec;
  profiles: Record<string, BoardProfile>;
  runDir: string;
  bus: EventBus;
  signal: AbortSignal;
  /** leave the server running after the run (to poke at it after a failure) */
  keepServer?: boolean;
  /** retries of a step that failed with an infrastructure error */
  retries?: number;
  serverMode?: Scenario["server"]["mode"];
  lockTimeoutMs?: number;
  onServer?: (server: OtaServer) => void;
}

export interface RunOutcome {
  exitCode: number;
  failureClass?: FailureClass;
}

class Interrupted extends InfraError {}

export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const { scenario, bus, runDir } = options;
  mkdirSync(runDir, { recursive: true });
  bus.emit({ type: "run.start", scenario: scenario.name, file: scenario.file, runDir, boards: scenario.boards });
  let server: OtaServer | undefined;
  let session: RigSession | undefined;
  let failure: { error: unknown; step?: string } | undefined;
  const deferred: RunContext["deferred"] = [];

  try {
    // Where the boards reach this runner; an address this host lacks fails before anything starts.
    const bench = resolveBenchAddress(options.rig.network, scenario.boards.map((b) => options.rig.boards[b]!));
    bus.emit({ type: "log", level: "info", source: "network", message: bench.summary });
    // The boards and the server come up side by side; whichever came up is torn down if the
    // other failed.
    const [sessionUp, serverUp] = await Promise.allSettled([
      openRigSession(options.rig, scenario.boards, {
        runDir,
        bus,
        profiles: options.profiles,
        signal: options.signal,
        ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
      }),
      startOtaServer(scenario.server, {
        runId: runDir,
        dataDir: join(runDir, "server-data"),
        onLog: (line) => bus.emit({ type: "server.log", line }),
        onDecision: (message) => bus.emit({ type: "log", level: "info", source: "server", message }),
        ...(options.serverMode ? { modeOverride: options.serverMode } : {}),
      }),
    ]);
    if (sessionUp.status === "fulfilled") session = sessionUp.value;
    if (serverUp.status === "fulfilled") server = serverUp.value;
    if (sessionUp.status === "rejected") throw sessionUp.reason;
    if (serverUp.status === "rejected") throw serverUp.reason;
    options.onServer?.(server!);
    bus.emit({ type: "log", level: "info", source: "server", message: `${server!.mode} server at ${server!.url}` });

    const proxies = new Map<string, NetworkProxy>();
    deferred.push(async () => {
      for (const proxy of proxies.values()) await proxy.close();
    });
    await startBoardProxies(session!, server!, bench, bus, proxies); // fills the map as it goes: a failure half-way leaks none
    const ctx: RunContext = {
      scenario,
      bus,
      boards: session!.handles,
      server: server!,
      outputs: new Map(),
      firmwares: new Map(),
      artifacts: new Map(),
      deployments: new Map(),
      deferred,
      proxies,
      lastMatch: new Map(),
      onServerMoved: (url) => {
        for (const proxy of proxies.values()) proxy.setTarget(url);
      },
      runDir,
      signal: options.signal,
    };
    await runSteps(ctx, scenario.steps, "", options.retries ?? 0);
  } catch (error) {
    failure = { error, ...(error instanceof StepFailed ? { step: error.path } : {}) };
  } finally {
    await teardown(bus, deferred, session, server, options.keepServer ?? false);
  }

  const cause = failure?.error instanceof StepFailed ? failure.error.cause : failure?.error;
  const interrupted = options.signal.aborted;
  const failureClass = failure ? failureClassOf(cause) : undefined;
  const exitCode = interrupted ? EXIT_CODES.interrupted : failureClass ? EXIT_CODES[failureClass] : EXIT_CODES.pass;
  bus.emit({
    type: "run.end",
    status: interrupted ? "interrupted" : failure ? "failed" : "passed",
    durationMs: bus.now(),
    exitCode,
    ...(failureClass ? { failureClass } : {}),
    ...(failure?.step ? { failedStep: failure.step } : {}),
    ...(cause ? { message: messageOf(cause) } : {}),
  });
  return { exitCode, ...(failureClass ? { failureClass } : {}) };
}

/** Carries the failing step's path up through nested blocks. */
class StepFailed extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(messageOf(cause));
  }
}

async function runSteps(ctx: RunContext, steps: Step[], prefix: string, retries: number): Promise<void> {
  for (const [i, step] of steps.entries()) {
    if (ctx.signal.aborted) throw new Interrupted("interrupted");
    await runStep(ctx, step, `${prefix}${i + 1}`, retries);
  }
}

async function runStep(ctx: RunContext, step: Step, path: string, retries: number): Promise<void> {
  const label = step.label ?? describeStep(step, resolvedForLabel(ctx, step));
  const boardName = boardOf(step.params);
  const startedAt = ctx.bus.now();
  const common = { path, name: step.name, label, ...(boardName ? { board: boardName } : {}) };
  const end = (result: Pick<EventOf<"step.end">, "status" | "detail" | "error">) =>
    ctx.bus.emit({ type: "step.end", ...common, durationMs: ctx.bus.now() - startedAt, ...result });
  ctx.bus.emit({ type: "step.start", ...common });
  let outcome: StepOutcome | void = undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        outcome = await executeStep(ctx, step, path, retries);
        break;
      } catch (err) {
        const retriable = err instanceof InfraError && !(err instanceof Interrupted) && !ctx.signal.aborted;
        if (!retriable || attempt >= retries) throw err;
        ctx.bus.emit({ type: "retry", path, attempt: attempt + 1, of: retries, reason: messageOf(err) });
      }
    }
  } catch (err) {
    const cause = err instanceof StepFailed ? err.cause : err;
    end({
      status: "failed",
      error: {
        failureClass: failureClassOf(cause),
        message: messageOf(cause),
        ...(cause instanceof OtarigError && cause.consoleTail ? { consoleTail: cause.consoleTail } : {}),
      },
    });
    throw err instanceof StepFailed ? err : new StepFailed(path, err);
  }
  end({ status: "passed", ...(outcome?.detail ? { detail: outcome.detail } : {}) });
}

async function executeStep(ctx: RunContext, step: Step, path: string, retries: number): Promise<StepOutcome | void> {
  if (step.name === "repeat" || step.name === "parallel") return runBlock(ctx, step, path, retries);
  const impl = STEP_IMPLS[step.name as keyof typeof STEP_IMPLS];
  if (!impl) throw new ScenarioError(`unknown step "${step.name}"`, step.pos);
  // board: all runs the step on each board, with ${board.<field>} that board's.
  const targets = boardOf(step.params) === "all" ? ctx.scenario.boards : [undefined];
  const paramsOf = targets.map((name) => checkStepParams(step as Step & { name: StepName }, interpolateStep(ctx, step, name)));
  const params = paramsOf[0];
  const timeoutMs = effectiveTimeout(ctx.scenario, step, params);
  const board = boardOf(params);
  // The step's own signal: aborted when the run is interrupted or the step times out, so a
  // step never keeps waiting (or keeps the process alive) after its verdict.
  const stepAbort = new AbortController();
  const onRunAbort = () => stepAbort.abort();
  ctx.signal.addEventListener("abort", onRunAbort, { once: true });
  try {
    const results = await Promise.all(
      targets.map((name, i) => {
        const p = name ? { ...(paramsOf[i] as object), board: name } : params;
        const sctx = stepContext({ ...ctx, signal: stepAbort.signal }, step, path, timeoutMs);
        return withTimeout(impl(sctx, p), timeoutMs, ctx, step, name ?? board, path);
      }),
    );
    return results.length === 1 ? results[0] : { detail: `${results.length} boards` };
  } finally {
    stepAbort.abort();
    ctx.signal.removeEventListener("abort", onRunAbort);
  }
}

async function runBlock(ctx: RunContext, step: Step, path: string, retries: number): Promise<StepOutcome> {
  const blocks = step.children ?? [];
  if (step.name === "repeat") {
    const times = Number((step.params as { times?: unknown }).times ?? 1);
    const body = blocks[0] ?? [];
    for (let n = 1; n <= times; n++) await runSteps(ctx, body, `${path}.${n}.`, retries);
    return { detail: `${times} times` };
  }
  // Every branch runs to its end even when another fails, so nothing still runs at teardown.
  const names = (step.params as { branches?: string[] } | null)?.branches ?? [];
  const outcomes = await Promise.allSettled(blocks.map((body, b) => runSteps(ctx, body, `${path}.${names[b] ?? b + 1}.`, retries)));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed) throw failed.reason;
  return { detail: `${blocks.length} branches` };
}

function stepContext(ctx: RunContext, step: Step, path: string, timeoutMs: number): StepContext {
  const marks = new Map<string, number>();
  for (const [name, handle] of ctx.boards) marks.set(name, handle.board.console.mark());
  return {
    ...ctx,
    step,
    path,
    timeoutMs,
    marks,
    handle(name) {
      const h = ctx.boards.get(name);
      if (!h) throw new ScenarioError(`unknown board "${name}" (this scenario uses: ${[...ctx.boards.keys()].join(", ")})`, step.pos);
      return h;
    },
    progress(message, fraction, board) {
      ctx.bus.emit({ type: "progress", path, message, ...(fraction !== undefined ? { fraction } : {}), ...(board ? { board } : {}) });
    },
    log(level, message) {
      ctx.bus.emit({ type: "log", level, source: `step ${path}`, message });
    },
  };
}

/** A step's own `timeout:` wins; else the scenario default, stretched to cover an explicit `within`. */
function effectiveTimeout(scenario: Scenario, step: Step, params: unknown): number {
  if (step.timeoutMs !== undefined) return step.timeoutMs;
  const within = (params as { within?: string | number } | null)?.within;
  const withinMs = within !== undefined ? parseDuration(within) : 0;
  return Math.max(scenario.timeoutMs, withinMs + 2000);
}

async function withTimeout<T>(
  work: Promise<T>,
  timeoutMs: number,
  ctx: RunContext,
  step: Step,
  board: string | undefined,
  path: string,
): Promise<T> {
  work.catch(() => {}); // a late rejection after a timeout is not an unhandled one
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const tail = board ? ctx.boards.get(board)?.board.console.tail(20) : undefined;
      const shown = tail?.length ? `\nlast lines from ${board}:\n  ${tail.slice(-10).join("\n  ")}` : "";
      reject(
        new TestFailure(`step ${path} (${step.name}) did not finish within ${timeoutMs / 1000}s${shown}`, tail ? { consoleTail: tail } : {}),
      );
    }, timeoutMs);
    onAbort = () => reject(new Interrupted(`interrupted during step ${path} (${step.name})`));
    ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener("abort", onAbort);
  }
}

async function teardown(
  bus: EventBus,
  deferred: RunContext["deferred"],
  session: RigSession | undefined,
  server: OtaServer | undefined,
  keepServer: boolean,
): Promise<void> {
  const attempt = async (what: string, fn: () => void | Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      bus.emit({ type: "log", level: "warn", source: "teardown", message: `${what}: ${messageOf(err)}` });
    }
  };
  for (const fn of deferred.reverse()) await attempt("step clean-up", fn);
  if (session) await attempt("closing the boards", () => session.close());
  if (server && !keepServer) await attempt("stopping the server", () => server.stop());
  if (server && keepServer) {
    bus.emit({ type: "log", level: "warn", source: "server", message: `kept running at ${server.url} (--keep-server); stop it yourself` });
  }
}

/** The step's parameters with ${…} filled in where that already works, for a readable label. */
function resolvedForLabel(ctx: RunContext, step: Step): unknown {
  try {
    return interpolateStep(ctx, step);
  } catch {
    return step.params; // the step itself reports the error when it runs
  }
}

function boardOf(params: unknown): string | undefined {
  const b = (params as { board?: unknown } | null)?.board;
  return typeof b === "string" ? b : undefined;
}

export function messageOf(err: unknown): string {
  if (err instanceof ScenarioError) return err.toString();
  if (err instanceof Error) return err.message;
  return String(err);
}
