// rig run: load every scenario first (a typo anywhere touches no hardware), then run them in
// sequence, each in its own run directory, with one JUnit file over all of them.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseDuration } from "../core/duration.ts";
import { EXIT_CODES, formatPosition, ScenarioError, ScenarioErrors } from "../core/errors.ts";
import { EventBus } from "../core/events.ts";
import { writeResultJson } from "../report/json.ts";
import { writeJunit } from "../report/junit.ts";
import { REPORT_FILE, writeHtml } from "../report/html.ts";
import { startLiveServer, type LiveServer } from "../report/live/live-server.ts";
import { invalidFileResult, ResultCollector, type RunResult } from "../report/result.ts";
import { RunLogWriter } from "../report/run-log.ts";
import { EventsJsonlWriter } from "../report/events-jsonl.ts";
import { describeBoards, runEnvironment } from "../report/run-info.ts";
import { writeSuiteJson } from "../report/suite-json.ts";
import { chooseShard, type ShardChoice } from "../lab/shard.ts";
import { worstExitCode } from "../core/exit-code.ts";
import { TerminalReporter } from "../report/terminal.ts";
import { runScenario } from "../runner/run-scenario.ts";
import { loadScenario, type LoadedScenario } from "../scenario/load-scenario.ts";
import type { ServerMode } from "../scenario/types.ts";
import { displayPath } from "../scenario/yaml-source.ts";
import { expandScenarioArgs } from "./files.ts";
import { HELP } from "./help.ts";
import { hasDisplay } from "../browser/chromium.ts";
import { pauseInTerminal, pauseRefusal } from "./pause.ts";

const SERVER_MODES = ["auto", "container", "process", "url"];

const RUN_OPTIONS = {
  out: { type: "string" },
  server: { type: "string" },
  rig: { type: "string" },
  "keep-server": { type: "boolean", default: false },
  retries: { type: "string", default: "0" },
  "lock-timeout": { type: "string", default: "10m" },
  console: { type: "boolean", default: false },
  headed: { type: "boolean", default: false },
  "no-color": { type: "boolean", default: false },
  shard: { type: "string" },
  durations: { type: "string" },
  "raw-secrets": { type: "boolean", default: false },
  "pause-on-failure": { type: "boolean", default: false },
  serve: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

type RunValues = ReturnType<typeof parseArgs<{ options: typeof RUN_OPTIONS; allowPositionals: true }>>["values"];

/** What the command line asks for, checked; or the exit code of a usage error (or of --help). */
interface RunRequest {
  values: RunValues;
  positionals: string[];
  retries: number;
  lockTimeoutMs: number;
  /** --serve: the port of the live page (0: any free one) */
  servePort?: number;
}

type Scenarios = Array<LoadedScenario & { name: string; file: string }>;

export async function runCommand(argv: string[]): Promise<number> {
  const request = parseRunArgs(argv);
  if (typeof request === "number") return request;
  const { values } = request;

  const loaded = await loadAll(request);
  if (typeof loaded === "number") return loaded;
  if ("invalid" in loaded) return reportInvalid(loaded, request);
  let shard: ShardChoice<Scenarios[number]>;
  try {
    shard = chooseShard(loaded, values.shard, values.durations);
  } catch (err) {
    if (err instanceof ScenarioError) return fileError(err);
    return usageError((err as Error).message);
  }
  const scenarios = shard.info ? shard.items : loaded;
  if (shard.info) process.stdout.write(`shard ${shard.info.index}/${shard.info.total}: ${shard.info.scenarios.join(", ") || "no scenarios"}\n`);

  const stamp = runStamp();
  const suite = scenarios.length > 1 || shard.info !== undefined;
  const base = values.out ?? join("runs", suite ? `${stamp}-suite` : `${stamp}-${safeName(scenarios[0]!.scenario.name)}`);
  const terminal = new TerminalReporter({ showConsole: values.console, ...(values["no-color"] ? { color: false } : {}) });

  const live = await serveLive(request.servePort, base);
  if (typeof live === "number") return live;

  const interrupt = interruptOnSignals();
  const results: RunResult[] = [];
  try {
    for (const item of scenarios) {
      if (interrupt.signal.aborted) break;
      const runDir = suite ? join(base, safeName(item.scenario.name)) : base;
      results.push(await runOne(item, runDir, request, interrupt.signal, { terminal, ...(live ? { live } : {}) }, shard.info));
    }
    if (suite) {
      writeSuiteReports(base, results, interrupt.signal.aborted, shard.info);
      live?.written(join(base, REPORT_FILE));
    }
  } finally {
    interrupt.dispose();
    await live?.close();
  }
  terminal.summary(results);
  if (interrupt.signal.aborted) return EXIT_CODES.interrupted;
  return worstExitCode(results.map((r) => r.exitCode ?? EXIT_CODES.infrastructure));
}

function parseRunArgs(argv: string[]): RunRequest | number {
  let parsed;
  try {
    parsed = parseArgs({ args: withServePort(argv[0] === "run" ? argv.slice(1) : argv), allowPositionals: true, options: RUN_OPTIONS });
  } catch (err) {
    return usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT_CODES.pass;
  }
  if (positionals.length === 0) return usageError("no scenario given");
  if (values.server !== undefined && !SERVER_MODES.includes(values.server)) {
    return usageError(`--server must be one of ${SERVER_MODES.join(", ")}, not "${values.server}"`);
  }
  const retries = Number(values.retries);
  if (!Number.isInteger(retries) || retries < 0) return usageError(`--retries must be a whole number, not "${values.retries}"`);
  if (values.headed && !hasDisplay()) return usageError("--headed needs a display (DISPLAY or WAYLAND_DISPLAY is not set)");
  const refusal = values["pause-on-failure"] ? pauseRefusal() : undefined;
  if (refusal) return usageError(refusal);
  const servePort = values.serve === undefined ? undefined : values.serve === "" ? 0 : Number(values.serve);
  if (servePort !== undefined && !(Number.isInteger(servePort) && servePort >= 0 && servePort <= 65535)) {
    return usageError(`--serve takes a port number (1-65535), not "${values.serve}"`);
  }
  try {
    return { values, positionals, retries, lockTimeoutMs: parseDuration(values["lock-timeout"]), ...(servePort !== undefined ? { servePort } : {}) };
  } catch (err) {
    return usageError(`--lock-timeout: ${(err as Error).message}`);
  }
}

/** `--serve` takes an optional port: `--serve 8080` and `--serve=8080`, or `--serve` alone (any free port). */
function withServePort(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg !== "--serve") {
      out.push(arg);
    } else if (next !== undefined && /^\d+$/.test(next)) {
      out.push(`--serve=${next}`);
      i++;
    } else {
      out.push("--serve=");
    }
  }
  return out;
}

/** Files that did not load, each with its errors; `suite` when several files were asked for. */
interface InvalidFiles {
  invalid: Array<{ file: string; error: ScenarioError }>;
  suite: boolean;
}

/** Every scenario is loaded before anything runs: a typo anywhere touches no hardware. */
async function loadAll({ values, positionals }: RunRequest): Promise<Scenarios | InvalidFiles | number> {
  const files = expandScenarioArgs(positionals);
  if (files.length === 0) return usageError(`no scenario files (*.yaml) in ${positionals.join(", ")}`);
  const loaded: Scenarios = [];
  const invalid: InvalidFiles["invalid"] = [];
  for (const file of files) {
    try {
      const l = await loadScenario(file, values.rig !== undefined ? { rig: values.rig } : {});
      loaded.push({ ...l, name: l.scenario.name, file: l.scenario.file });
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      invalid.push({ file, error: err });
    }
  }
  if (invalid.length === 0) return loaded;
  return { invalid, suite: files.length > 1 || values.shard !== undefined };
}

/**
 * Nothing runs when a file is invalid. Each error is said on stderr (a bad --rig once, not per
 * scenario); a suite still writes junit.xml and its page, an error testcase per invalid file, so
 * a CI job shows why it ran nothing.
 */
function reportInvalid({ invalid, suite }: InvalidFiles, { values }: RunRequest): number {
  const errors = invalid.map((i) => i.error.toString());
  process.stderr.write([...new Set(errors)].join("\n") + "\n");
  process.stderr.write(`rig: ${invalid.length} file(s) with errors; nothing was run\n`);
  if (!suite) return EXIT_CODES.scenario;
  const base = values.out ?? join("runs", `${runStamp()}-suite`);
  mkdirSync(base, { recursive: true });
  const results = invalid.map(({ file, error }) => {
    const all = error instanceof ScenarioErrors ? error.errors : [error];
    return invalidFileResult(displayPath(resolve(file)), all.map(String), error.position && formatPosition(error.position), base);
  });
  writeJunit(join(base, "junit.xml"), results);
  writeHtml(join(base, "report.html"), results);
  process.stderr.write(`rig: reports in ${base} (junit.xml, report.html)\n`);
  return EXIT_CODES.scenario;
}

/** Ctrl-C (or SIGTERM) once: tear down cleanly; twice: quit at once. */
function interruptOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write("\nrig: interrupted; tearing down (Ctrl-C again to quit at once)\n");
      controller.abort();
    } else {
      process.exit(EXIT_CODES.interrupted);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** One scenario in its run directory, with its logs and reports written however it ends. */
async function runOne(
  item: Scenarios[number],
  runDir: string,
  { values, retries, lockTimeoutMs }: RunRequest,
  signal: AbortSignal,
  { terminal, live }: { terminal: TerminalReporter; live?: LiveServer },
  shard: ShardChoice<unknown>["info"],
): Promise<RunResult> {
  mkdirSync(runDir, { recursive: true });
  const bus = new EventBus();
  const collector = new ResultCollector(item.scenario.name, item.scenario.file, runDir);
  const runLog = new RunLogWriter(runDir);
  const eventsLog = new EventsJsonlWriter(runDir);
  collector.setSetting(describeBoards(item.rig, item.scenario.boards), runEnvironment(item.rig, shard && { index: shard.index, total: shard.total }));
  bus.subscribe(collector.listener);
  bus.subscribe(runLog.listener);
  bus.subscribe(eventsLog.listener);
  bus.subscribe(terminal.listener);
  if (live) bus.subscribe(live.beginRun({ runDir, scenario: item.scenario.name, boards: item.scenario.boards, result: () => collector.result }));
  await runScenario({
    ...item,
    runDir,
    bus,
    signal,
    keepServer: values["keep-server"],
    retries,
    lockTimeoutMs,
    headed: values.headed,
    rawSecrets: values["raw-secrets"],
    ...(values["pause-on-failure"] ? { pauseOnFailure: pauseInTerminal } : {}),
    ...(values.server ? { serverMode: values.server as ServerMode } : {}),
    onServer: (s) =>
      collector.setServer({ mode: s.mode, url: s.url, ...(s.containerId ? { containerId: s.containerId } : {}), ...(s.image ? { image: s.image } : {}) }),
  });
  await runLog.close();
  await eventsLog.close();
  writeResultJson(collector.result);
  writeJunit(join(runDir, "junit.xml"), [collector.result]);
  writeHtml(join(runDir, REPORT_FILE), [collector.result]);
  live?.written(join(runDir, REPORT_FILE));
  return collector.result;
}

/** --serve: the live page's server, its address printed; a port that is taken is a usage error. */
async function serveLive(port: number | undefined, root: string): Promise<LiveServer | undefined | number> {
  if (port === undefined) return undefined;
  mkdirSync(root, { recursive: true });
  try {
    const live = await startLiveServer({ port, root });
    process.stdout.write(`live report: ${live.url} (until rig exits)\n`);
    return live;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return usageError(`--serve: cannot listen on 127.0.0.1:${port}: ${e.code === "EADDRINUSE" ? "the port is taken" : e.message}`);
  }
}

/** A directory run's own result.json, junit.xml (a testcase per scenario) and suite page. */
function writeSuiteReports(base: string, results: RunResult[], interrupted: boolean, shard: ShardChoice<unknown>["info"]): void {
  mkdirSync(base, { recursive: true });
  const exitCode = interrupted ? EXIT_CODES.interrupted : worstExitCode(results.map((r) => r.exitCode ?? EXIT_CODES.infrastructure));
  const title = shard ? `otarig shard ${shard.index}/${shard.total}` : undefined;
  writeSuiteJson(base, { exitCode, ...(shard ? { shard } : {}), results });
  writeJunit(join(base, "junit.xml"), results, title);
  writeHtml(join(base, "report.html"), results, shard ? { shard, title: title! } : {});
}

export { worstExitCode };

/** The time a run directory is named by: 2026-12-04T17-55-12Z. */
function runStamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d{3}Z$/, "Z");
}

function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, "_");
}

function fileError(err: ScenarioError): number {
  process.stderr.write(`rig run: ${err.toString()}\n`);
  return EXIT_CODES.scenario;
}

function usageError(message: string): number {
  process.stderr.write(`rig run: ${message}\nRun "rig --help" for usage.\n`);
  return EXIT_CODES.scenario;
}
