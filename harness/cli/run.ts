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
import { TerminalReporter } from "../report/terminal.ts";
import { runScenario } from "../runner/run-scenario.ts";
import { loadScenario, type LoadedScenario } from "../scenario/load-scenario.ts";
import type { ServerMode } from "../scenario/types.ts";
import { expandScenarioArgs } from "./files.ts";
import { HELP } from "./help.ts";

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
        "keep-server": { type: "boolean", default: false },
        retries: { type: "string", default: "0" },
        "lock-timeout": { type: "string", default: "10m" },
        console: { type: "boolean", default: false },
        "no-color": { type: "boolean", default: false },
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
      loaded.push(await loadScenario(file));
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      errors.push(err.toString());
    }
  }
  if (errors.length) {
    process.stderr.write(errors.join("\n") + "\n");
    process.stderr.write(`rig: ${errors.length} file(s) with errors; nothing was run\n`);
    return EXIT_CODES.scenario;
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d{3}Z$/, "Z");
  const suite = loaded.length > 1;
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
      bus.subscribe(collector.listener);
      bus.subscribe(runLog.listener);
      bus.subscribe(terminal.listener);
      await runScenario({
        ...item,
        runDir,
        bus,
        signal: controller.signal,
        keepServer: values["keep-server"],
        retries,
        lockTimeoutMs,
        rawSecrets: values["raw-secrets"],
        ...(values.server ? { serverMode: values.server as ServerMode } : {}),
        onServer: (s) =>
          collector.setServer({ mode: s.mode, url: s.url, ...(s.containerId ? { containerId: s.containerId } : {}), ...(s.image ? { image: s.image } : {}) }),
      });
      await runLog.close();
      writeResultJson(collector.result);
      writeJunit(join(runDir, "junit.xml"), [collector.result]);
      writeHtml(join(runDir, "report.html"), [collector.result]);
      results.push(collector.result);
    }
    if (suite) {
      writeJunit(join(base, "junit.xml"), results);
      writeHtml(join(base, "report.html"), results);
    }
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
  terminal.summary(results);
  if (controller.signal.aborted) return EXIT_CODES.interrupted;
  return worstExitCode(results.map((r) => r.exitCode ?? EXIT_CODES.infrastructure));
}

/** A suite's exit code: infrastructure trouble first (CI should alert), then scenario errors, then test failures. */
export function worstExitCode(codes: number[]): number {
  for (const code of [EXIT_CODES.interrupted, EXIT_CODES.infrastructure, EXIT_CODES.scenario, EXIT_CODES.test]) {
    if (codes.includes(code)) return code;
  }
  return EXIT_CODES.pass;
}

function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, "_");
}

function usageError(message: string): number {
  process.stderr.write(`rig run: ${message}\nRun "rig --help" for usage.\n`);
  return EXIT_CODES.scenario;
}
