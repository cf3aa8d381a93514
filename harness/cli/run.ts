// rig run: load every scenario first (a typo anywhere touches no hardware), then run them in
// sequence, each in its own run directory, with one JUnit file over all of them.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseDuration } from "../core/duration.ts";
import { EXIT_CODES, ScenarioError } from "../core/errors.ts";
import { EventBus } from "../core/events.ts";
import { writeResultJson } from "../report/json.ts";
import { writeJunit } from "../report/junit.ts";
import { writeHtml } from "../report/html.ts";
import { ResultCollector, type RunResult } from "../report/result.ts";
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
import { expandScenarioArgs } from "./files.ts";
import { HELP } from "./help.ts";
import { hasDisplay } from "../browser/chromium.ts";

const SERVER_MODES = ["auto", "container", "process", "url"];

export async function runCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv[0] === "run" ? argv.slice(1) : argv,
      allowPositionals: true,
      options: {
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
        help: { type: "boolean", short: "h", default: false },
      },
    });
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
  let lockTimeoutMs: number;
  try {
    lockTimeoutMs = parseDuration(values["lock-timeout"]);
  } catch (err) {
    return usageError(`--lock-timeout: ${(err as Error).message}`);
  }

  const files = expandScenarioArgs(positionals);
  if (files.length === 0) return usageError(`no scenario files (*.yaml) in ${positionals.join(", ")}`);
  const loaded: LoadedScenario[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      loaded.push(await loadScenario(file, values.rig !== undefined ? { rig: values.rig } : {}));
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      errors.push(err.toString());
    }
  }
  if (errors.length) {
    process.stderr.write([...new Set(errors)].join("\n") + "\n"); // one bad --rig is said once, not per scenario
    process.stderr.write(`rig: ${errors.length} file(s) with errors; nothing was run\n`);
    return EXIT_CODES.scenario;
  }

  let shard: ShardChoice<LoadedScenario & { name: string; file: string }>;
  try {
    shard = chooseShard(loaded.map((l) => ({ ...l, name: l.scenario.name, file: l.scenario.file })), values.shard, values.durations);
  } catch (err) {
    if (err instanceof ScenarioError) return fileError(err);
    return usageError((err as Error).message);
  }
  if (shard.info) {
    process.stdout.write(`shard ${shard.info.index}/${shard.info.total}: ${shard.info.scenarios.join(", ") || "no scenarios"}\n`);
    loaded.splice(0, loaded.length, ...shard.items);
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d{3}Z$/, "Z");
  const suite = loaded.length > 1 || shard.info !== undefined;
  const base = values.out ?? join("runs", suite ? `${stamp}-suite` : `${stamp}-${safeName(loaded[0]!.scenario.name)}`);
  const terminal = new TerminalReporter({ showConsole: values.console, ...(values["no-color"] ? { color: false } : {}) });

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write("\nrig: interrupted; tearing down (Ctrl-C again to quit at once)\n");
      controller.abort();
    } else {
      process.exit(EXIT_CODES.interrupted);
    }
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);

  const results: RunResult[] = [];
  try {
    for (const item of loaded) {
      if (controller.signal.aborted) break;
      const runDir = suite ? join(base, safeName(item.scenario.name)) : base;
      mkdirSync(runDir, { recursive: true });
      const bus = new EventBus();
      const collector = new ResultCollector(item.scenario.name, item.scenario.file, runDir);
      const runLog = new RunLogWriter(runDir);
      const eventsLog = new EventsJsonlWriter(runDir);
      collector.setSetting(describeBoards(item.rig, item.scenario.boards), runEnvironment(item.rig, shard.info && { index: shard.info.index, total: shard.info.total }));
      bus.subscribe(collector.listener);
      bus.subscribe(runLog.listener);
      bus.subscribe(eventsLog.listener);
      bus.subscribe(terminal.listener);
      await runScenario({
        ...item,
        runDir,
        bus,
        signal: controller.signal,
        keepServer: values["keep-server"],
        retries,
        lockTimeoutMs,
        headed: values.headed,
        rawSecrets: values["raw-secrets"],
        ...(values.server ? { serverMode: values.server as ServerMode } : {}),
        onServer: (s) =>
          collector.setServer({ mode: s.mode, url: s.url, ...(s.containerId ? { containerId: s.containerId } : {}), ...(s.image ? { image: s.image } : {}) }),
      });
      await runLog.close();
      await eventsLog.close();
      writeResultJson(collector.result);
      writeJunit(join(runDir, "junit.xml"), [collector.result]);
      writeHtml(join(runDir, "report.html"), [collector.result]);
      results.push(collector.result);
    }
    if (suite) {
      mkdirSync(base, { recursive: true });
      const exitCode = controller.signal.aborted ? EXIT_CODES.interrupted : worstExitCode(results.map((r) => r.exitCode ?? EXIT_CODES.infrastructure));
      writeSuiteJson(base, { exitCode, ...(shard.info ? { shard: shard.info } : {}), results });
      writeJunit(join(base, "junit.xml"), results, shard.info ? `otarig shard ${shard.info.index}/${shard.info.total}` : undefined);
      writeHtml(join(base, "report.html"), results, shard.info ? { shard: shard.info, title: `otarig shard ${shard.info.index}/${shard.info.total}` } : {});
    }
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
  terminal.summary(results);
  if (controller.signal.aborted) return EXIT_CODES.interrupted;
  return worstExitCode(results.map((r) => r.exitCode ?? EXIT_CODES.infrastructure));
}

export { worstExitCode };

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
