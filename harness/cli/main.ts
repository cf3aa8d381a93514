#!/usr/bin/env node
// `rig`: the command line. `rig <scenario.yaml>` is short for `rig run <scenario.yaml>`.
import { EXIT_CODES } from "../core/errors.ts";
import { HELP, commandHelp } from "./help.ts";
import { runCommand } from "./run.ts";
import { validateCommand } from "./validate.ts";
import { listCommand } from "./list.ts";
import { doctorCommand } from "./doctor.ts";
import { flashCommand, powerCommand, resetCommand } from "./bench-commands.ts";
import { consoleCommand } from "./console.ts";

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  validate: validateCommand,
  list: listCommand,
  doctor: doctorCommand,
  power: powerCommand,
  reset: resetCommand,
  flash: flashCommand,
  console: consoleCommand,
};

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    const topic = first === "help" ? rest[0] : undefined;
    process.stdout.write(topic ? commandHelp(topic) : HELP);
    return first === undefined ? EXIT_CODES.scenario : EXIT_CODES.pass;
  }
  if (first === "--version" || first === "-V") {
    process.stdout.write("otarig 0.1.0\n");
    return 0;
  }
  const command = COMMANDS[first];
  if (command) return command(rest);
  if (/\.ya?ml$/.test(first) || first.includes("/")) return runCommand(argv);
  process.stderr.write(`rig: unknown command "${first}"${suggestCommand(first)}\nRun "rig --help" for the list.\n`);
  return EXIT_CODES.scenario;
}

function suggestCommand(word: string): string {
  const near = Object.keys(COMMANDS).find((c) => c.startsWith(word.slice(0, 2)));
  return near ? ` (did you mean "${near}"?)` : "";
}

// Exit explicitly once the command is done: a serial port or socket some driver failed to
// close must not keep a finished run hanging in CI.
main(process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (err: unknown) => {
    process.stderr.write(`rig: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    exitAfterFlush(EXIT_CODES.infrastructure);
  },
);

function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
