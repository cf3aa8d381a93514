// Runs one scenario: locks, server, boards, steps in order with timeouts, and a teardown that
// always runs. Reports are the subscribers' business; this only emits events.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { formatDuration, parseDuration } from "../core/duration.ts";
import { DEFAULT_KILL_GRACE_MS } from "../board/exec.ts";
import { setAsideAttempt } from "./attempts.ts";
import { leftBehindGroups } from "../core/child-registry.ts";
import { EXIT_CODES, formatPosition, InfraError, OtarigError, ScenarioError, TestFailure, failureClassOf, harnessBugMessage, type FailureClass } from "../core/errors.ts";
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
import { watchFatal } from "./fatal-watch.ts";
import { ConsoleWindows } from "./console-windows.ts";
import type { ConsolePosition } from "../board/types.ts";
import { scenarioSecrets, type Secrets } from "./secrets.ts";
import { checkStepParams } from "../scenario/step-check.ts";
import { messageOf, StepFailed, stepCause } from "./step-failed.ts";
import { CUT_STOP, runSweep } from "./sweep-block.ts";
import type { StepName } from "../scenario/steps.ts";
import { holdRun, type PauseHook } from "./hold.ts";

export interface RunOptions {
  scenario: Scenario;
  rig: RigSpec;
  profiles: Record<string, BoardProfile>;
  runDir: string;
  bus: EventBus;
  signal: AbortSignal;
  /** leave the server running after the run (to poke at it after a failure) */
  keepServer?: boolean;
  /** how many times to run the scenario again after an attempt failed with an infrastructure error */
  retries?: number;
  serverMode?: Scenario["server"]["mode"];
  lockTimeoutMs?: number;
  onServer?: (server: OtaServer) => void;
  /** browser steps show their window (--headed) */
  headed?: boolean;
  /** keep <board>.raw even when the scenario has secrets (the board may echo them there) */
  rawSecrets?: boolean;
  /** --pause-on-failure: after a failed step, hold the run as it is until this hook (the terminal) or `rig resume` says go on */
  pauseOnFailure?: PauseHook;
}

export interface RunOutcome {
  exitCode: number;
  failureClass?: FailureClass;
}

class Interrupted extends InfraError {}

/**
 * Runs the scenario; an attempt that fails with an infrastructure error (a hung relay, a flasher
 * that timed out, a port that vanished) is run again from scratch, up to `retries` more times.
 * Every attempt is reported (attempt.end events -> result.json `attempts`); the last is the verdict.
 */
export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const { scenario, bus, runDir } = options;
  mkdirSync(runDir, { recursive: true });
  const secrets = scenarioSecrets(scenario);
  bus.redactor = secrets.redactor; // before the first event: nothing is written unredacted
  bus.emit({ type: "run.start", scenario: scenario.name, file: scenario.file, runDir, boards: scenario.boards });
  reportSecrets(bus, secrets, options.rawSecrets === true);
  const maxAttempts = 1 + (options.retries ?? 0);
  let attempt: AttemptOutcome;
  for (let n = 1; ; n++) {
    const startedAt = new Date().toISOString();
    const t0 = bus.now();
    bus.emit({ type: "attempt.start", n, of: maxAttempts });
    attempt = await runAttempt(options, secrets);
    const retrying = attempt.failureClass === "infrastructure" && !options.signal.aborted && n < maxAttempts && !toolsLeftBehind(bus);
    bus.emit({
      type: "attempt.end",
      n,
      startedAt,
      durationMs: bus.now() - t0,
      outcome: options.signal.aborted ? "interrupted" : attempt.failureClass ? "failed" : "passed",
      ...(attempt.failureClass && attempt.message !== undefined
        ? { failure: { failureClass: attempt.failureClass, message: attempt.message, ...(attempt.step ? { step: attempt.step } : {}), ...(attempt.stack ? { stack: attempt.stack } : {}) } }
        : {}),
      retrying,
    });
    if (!retrying) break;
    bus.emit({ type: "retry", path: "scenario", attempt: n, of: maxAttempts - 1, reason: attempt.message ?? "infrastructure error" });
    setAsideAttempt(runDir, n, (message) => bus.emit({ type: "log", level: "warn", source: "retry", message }));
  }

  const interrupted = options.signal.aborted;
  const { failureClass } = attempt;
  const exitCode = interrupted ? EXIT_CODES.interrupted : failureClass ? EXIT_CODES[failureClass] : EXIT_CODES.pass;
  bus.emit({
    type: "run.end",
    status: interrupted ? "interrupted" : failureClass ? "failed" : "passed",
    durationMs: bus.now(),
    exitCode,
    ...(failureClass ? { failureClass } : {}),
    ...(attempt.step ? { failedStep: attempt.step } : {}),
    ...(attempt.at ? { failedAt: attempt.at } : {}),
    ...(attempt.message !== undefined ? { message: attempt.message } : {}),
  });
  return { exitCode, ...(failureClass ? { failureClass } : {}) };
}

/**
 * A tool that survived SIGKILL still holds its port (a second flasher on it would fight it): no
 * attempt may start while one runs. Says so in run.log.
 */
function toolsLeftBehind(bus: EventBus): boolean {
  const left = leftBehindGroups();
  for (const g of left) {
    const message = `not retried: ${g.what} (process group ${g.pgid}) is still running after SIGKILL`;
    bus.emit({ type: "log", level: "error", source: "retry", message });
  }
  return left.length > 0;
}

interface AttemptOutcome {
  failureClass?: FailureClass;
  message?: string;
  step?: string;
  /** the failed step's `file:line:col` */
  at?: string;
  /** a harness bug's stack (for run.log) */
  stack?: string;
}

/** One attempt: boards and server up, the steps, teardown (always). */
async function runAttempt(options: RunOptions, secrets: Secrets): Promise<AttemptOutcome> {
  const { scenario, bus, runDir } = options;
  let server: OtaServer | undefined;
  let session: RigSession | undefined;
  let failure: { error: unknown; step?: string; at?: string } | undefined;
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
        redactor: secrets.redactor,
        rawCapture: !secrets.redactor.active || options.rawSecrets === true,
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
    const watch = watchFatal(session!.handles, scenario, bus);
    deferred.push(() => watch.stop());
    // A lost lock ends the running step as a board's fatal line does: another run has the hardware.
    const fatal = { ...watch, failed: Promise.race([watch.failed, session!.lockLost]) };
    fatal.failed.catch(() => {});
    const ctx: RunContext = {
      scenario,
      bus,
      boards: session!.handles,
      server: server!,
      outputs: new Map(),
      firmwares: new Map(),
      artifacts: new Map(),
      deployments: new Map(),
      browser: { headed: options.headed ?? false },
      deferred,
      proxies,
      lastMatch: new Map(),
      windows: new ConsoleWindows(),
      background: {},
      fleet: {},
      onServerMoved: (url) => {
        for (const proxy of proxies.values()) proxy.setTarget(url);
      },
      runDir,
      signal: options.signal,
      fatal,
    };
    await runSteps(ctx, scenario.steps, "");
    if (ctx.background.failure !== undefined) throw ctx.background.failure;
  } catch (error) {
    failure = { error, ...(error instanceof StepFailed ? { step: error.path, at: error.at } : {}) };
    // Held before anything is torn down: boards, consoles, server and locks stay as the failure left them.
    if (options.pauseOnFailure && session && !options.signal.aborted) {
      const cause = error instanceof StepFailed ? error.cause : error;
      await holdRun({ runDir, bus, boards: session.handles, server, step: failure.step, message: messageOf(cause), signal: options.signal, pause: options.pauseOnFailure });
    }
  } finally {
    await teardown(bus, deferred, session, server, options.keepServer ?? false);
  }
  if (!failure) return {};
  const cause = failure.error instanceof StepFailed ? failure.error.cause : failure.error;
  const failureClass = failureClassOf(cause);
  const stack = failureClass === "harness" && cause instanceof Error ? cause.stack : undefined;
  return {
    failureClass,
    message: failureMessage(cause, runDir),
    ...(failure.step ? { step: failure.step } : {}),
    ...(failure.at ? { at: failure.at } : {}),
    ...(stack ? { stack } : {}),
  };
}

/** Says which variables are hidden (never their values), and what that does to the .raw files. */
function reportSecrets(bus: EventBus, secrets: ReturnType<typeof scenarioSecrets>, rawSecrets: boolean): void {
  if (secrets.names.length) {
    const raw = rawSecrets ? "<board>.raw is kept (--raw-secrets): it may hold them" : "no <board>.raw is kept (--raw-secrets keeps it)";
    bus.emit({ type: "log", level: "info", source: "secrets", message: `the values of ${secrets.names.join(", ")} are written as ***; ${raw}` });
  }
  if (secrets.tooShort.length) {
    bus.emit({
      type: "log",
      level: "warn",
      source: "secrets",
      message: `${secrets.tooShort.join(", ")} look secret but are too short to hide; list them under secrets: to hide them anyway`,
    });
  }
}


async function runSteps(ctx: RunContext, steps: Step[], prefix: string): Promise<void> {
  for (const [i, step] of steps.entries()) {
    if (ctx.signal.aborted) throw new Interrupted(abortMessage(ctx.signal, "interrupted"));
    // Something an earlier step left running failed (a power cut's relay): the run stops here.
    if (ctx.background.failure !== undefined) throw ctx.background.failure;
    await runStep(ctx, step, `${prefix}${i + 1}`);
  }
}

async function runStep(ctx: RunContext, step: Step, path: string): Promise<void> {
  const label = step.label ?? describeStep(step, resolvedForLabel(ctx, step));
  const boardName = boardOf(step.params);
  const startedAt = ctx.bus.now();
  const at = formatPosition(step.pos);
  const common = { path, name: step.name, label, ...(boardName ? { board: boardName } : {}), at };
  const end = (result: Pick<EventOf<"step.end">, "status" | "detail" | "error">) =>
    ctx.bus.emit({ type: "step.end", ...common, durationMs: ctx.bus.now() - startedAt, ...result });
  ctx.bus.emit({ type: "step.start", ...common });
  let outcome: StepOutcome | void = undefined;
  try {
    outcome = await executeStep(ctx, step, path);
  } catch (err) {
    const cause = err instanceof StepFailed ? err.cause : err;
    if (ctx.signal.aborted && ctx.signal.reason === CUT_STOP) {
      // A sweep point's power cut ended it: the board died under it, nothing failed.
      end({ status: "skipped", detail: "stopped by the power cut" });
      throw err instanceof StepFailed ? err : new StepFailed(path, at, err);
    }
    end({
      status: "failed",
      error: {
        failureClass: failureClassOf(cause),
        message: failureMessage(cause, ctx.runDir),
        ...(cause instanceof OtarigError && cause.consoleTail ? { consoleTail: cause.consoleTail } : {}),
      },
    });
    throw err instanceof StepFailed ? err : new StepFailed(path, at, err);
  }
  end({ status: "passed", ...(outcome?.detail ? { detail: outcome.detail } : {}) });
}

async function executeStep(ctx: RunContext, step: Step, path: string): Promise<StepOutcome | void> {
  if (step.name === "sweep") return runSweep(ctx, step, path, runSteps);
  if (step.name === "repeat" || step.name === "parallel") return runBlock(ctx, step, path);
  const impl = STEP_IMPLS[step.name as keyof typeof STEP_IMPLS];
  if (!impl) throw new ScenarioError(`unknown step "${step.name}"`, step.pos);
  // board: all runs the step on each board, with ${board.<field>} that board's.
  const targets = boardOf(step.params) === "all" ? ctx.scenario.boards : [undefined];
  const paramsOf = targets.map((name) => checkStepParams(step as Step & { name: StepName }, interpolateStep(ctx, step, name)));
  const params = paramsOf[0];
  const timeoutMs = effectiveTimeout(ctx, step, params);
  const board = boardOf(params);
  // The step's own signal: aborted when the run is interrupted, a parallel branch failed or the
  // step timed out, so a step never keeps waiting, and its tools are stopped, after its verdict.
  const stepAbort = new AbortController();
  const onRunAbort = () => stepAbort.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onRunAbort, { once: true });
  try {
    const results = await Promise.all(
      targets.map((name, i) => {
        const p = name ? { ...(paramsOf[i] as object), board: name } : params;
        const sctx = stepContext({ ...ctx, signal: stepAbort.signal }, step, path, timeoutMs);
        return withTimeout(impl(sctx, p), timeoutMs, ctx, stepAbort, step, name ?? board, path);
      }),
    );
    return results.length === 1 ? results[0] : { detail: `${results.length} boards` };
  } finally {
    stepAbort.abort();
    ctx.signal.removeEventListener("abort", onRunAbort);
  }
}

async function runBlock(ctx: RunContext, step: Step, path: string): Promise<StepOutcome> {
  const blocks = step.children ?? [];
  if (step.name === "repeat") {
    const times = Number((step.params as { times?: unknown }).times ?? 1);
    const body = blocks[0] ?? [];
    for (let n = 1; n <= times; n++) await runSteps(ctx, body, `${path}.${n}.`);
    return { detail: `${times} times` };
  }
  // The first branch to fail stops the others (their tools get SIGTERM, then SIGKILL); every
  // branch has ended before the block does, so nothing still runs at teardown.
  const names = (step.params as { branches?: string[] } | null)?.branches ?? [];
  const branchAbort = new AbortController();
  const onRunAbort = () => branchAbort.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onRunAbort, { once: true });
  const branchCtx = { ...ctx, signal: branchAbort.signal };
  try {
    const outcomes = await Promise.allSettled(
      blocks.map((body, b) =>
        runSteps(branchCtx, body, `${path}.${names[b] ?? b + 1}.`).catch((err: unknown) => {
          if (!branchAbort.signal.aborted) branchAbort.abort(`stopped: parallel branch ${names[b] ?? b + 1} of step ${path} failed`);
          throw err;
        }),
      ),
    );
    if (ctx.signal.aborted) throw new Interrupted(abortMessage(ctx.signal, "interrupted"));
    // The branch that failed first (by its own error, not one stopped because of it) is the verdict.
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    const first = failed.find((o) => !(stepCause(o.reason) instanceof Interrupted)) ?? failed[0];
    if (first) throw first.reason;
  } finally {
    ctx.signal.removeEventListener("abort", onRunAbort);
  }
  return { detail: `${blocks.length} branches` };
}

function abortMessage(signal: AbortSignal, fallback: string): string {
  return typeof signal.reason === "string" ? signal.reason : fallback;
}

function stepContext(ctx: RunContext, step: Step, path: string, timeoutMs: number): StepContext {
  const marks = new Map<string, ConsolePosition>();
  for (const [name, handle] of ctx.boards) marks.set(name, handle.board.console.mark());
  return {
    ...ctx,
    step,
    path,
    timeoutMs,
    marks,
    acted(name) {
      const mark = marks.get(name);
      if (mark) ctx.windows.acted(name, mark);
    },
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

/**
 * Steps that drive bench hardware through tools and drivers: when one times out the bench is at
 * fault (infrastructure error, exit 3, retried under --retries), and its tools are stopped
 * before the step ends. A timeout of any other step is a wait on the board or the server's view
 * of it: a test failure.
 */
const INFRA_STEPS = new Set(["flash", "power", "reset", "server.start", "server.stop", "server.restart"]);

/** After this long, a stopped step that is still letting go of its tools says so in run.log (and goes on waiting). */
const STOP_NOTE_MS = 10_000;

/**
 * A step's own `timeout:` wins. A flash step gets its rig's `flash.timeout`, plus the time to stop
 * the flasher, so the flasher's own timeout (with its output) speaks first. Else the scenario
 * default, stretched to cover an explicit `within`.
 */
function effectiveTimeout(ctx: RunContext, step: Step, params: unknown): number {
  if (step.timeoutMs !== undefined) return step.timeoutMs;
  if (step.name === "flash") {
    const board = boardOf(params);
    const names = board === "all" ? ctx.scenario.boards : board ? [board] : [];
    const flashMs = names.map((n) => ctx.boards.get(n)?.spec.flash).map((f) => (f ? f.timeoutMs + (f.killGraceMs ?? DEFAULT_KILL_GRACE_MS) + 2000 : 0));
    if (flashMs.length > 0 && Math.max(...flashMs) > 0) return Math.max(...flashMs);
  }
  const within = (params as { within?: string | number } | null)?.within;
  const withinMs = within !== undefined ? parseDuration(within) : 0;
  return Math.max(ctx.scenario.timeoutMs, withinMs + 2000);
}

async function withTimeout<T>(
  work: Promise<T>,
  timeoutMs: number,
  ctx: RunContext,
  stepAbort: AbortController,
  step: Step,
  board: string | undefined,
  path: string,
): Promise<T> {
  work.catch(() => {}); // a late rejection after a timeout is not an unhandled one
  const infra = INFRA_STEPS.has(step.name);
  let stopping = false; // the verdict is the timeout's (or the interruption's), not what the stopped work threw
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stopping = true;
      const what = `step ${path} (${step.name}) did not finish within ${timeoutMs / 1000}s`;
      stepAbort.abort(`${what}`);
      void settleStopped(work, infra, ctx, path).then((toolError) => {
        const tail = board ? ctx.boards.get(board)?.board.console.tail(20) : undefined;
        const shown = tail?.length ? `\nlast lines from ${board}:\n  ${tail.slice(-10).join("\n  ")}` : "";
        const message = `${what}${toolError ? `\n${toolError}` : ""}${shown}`;
        const options = tail ? { consoleTail: tail } : {};
        reject(infra ? new InfraError(message, options) : new TestFailure(message, options));
      });
    }, timeoutMs);
    onAbort = () => {
      stopping = true;
      void settleStopped(work, infra, ctx, path).then(() =>
        reject(new Interrupted(`${abortMessage(ctx.signal, "interrupted")} (during step ${path}, ${step.name})`)),
      );
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    // A board printing a fatal line (panic, watchdog) ends the step at once, whatever it waits for.
    return await Promise.race(ctx.fatal ? [work, limit, ctx.fatal.failed] : [work, limit]);
  } catch (err) {
    if (stopping) return await limit;
    if (!stepAbort.signal.aborted) {
      // Ended early (a fatal line on a console): the step's tools are stopped before the verdict.
      stepAbort.abort(messageOf(err));
      await settleStopped(work, infra, ctx, path);
    }
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * After a step was stopped: a hardware step ends only once its tools are gone, however long their
 * kill_grace (runTool returns once its process group is gone, or is known to survive SIGKILL), so
 * teardown never releases a lock while a flasher still runs; returns what its tool said on the
 * way out. Other steps only wait on the board or the server and end at once.
 */
async function settleStopped(work: Promise<unknown>, infra: boolean, ctx: RunContext, path: string): Promise<string | undefined> {
  if (!infra) return undefined;
  const started = performance.now();
  const note = setTimeout(() => {
    const message = `step ${path} is still stopping its tools ${formatDuration(performance.now() - started)} after it was told to stop; waiting for them to be gone`;
    ctx.bus.emit({ type: "log", level: "warn", source: `step ${path}`, message });
  }, STOP_NOTE_MS);
  try {
    return await work.then(
      () => undefined,
      (err: unknown) => messageOf(err),
    );
  } finally {
    clearTimeout(note);
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

/** What a failure says: its message, or for a harness bug one line that says so and where its stack is. */
function failureMessage(err: unknown, runDir: string): string {
  return failureClassOf(err) === "harness" ? harnessBugMessage(err, join(runDir, "run.log")) : messageOf(err);
}

export { messageOf };
