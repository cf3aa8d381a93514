#!/usr/bin/env node
// `rig`: the command line. `rig <scenario.yaml>` is short for `rig run <scenario.yaml>`.
import { EXIT_CODES } from "../core/errors.ts";
import { HELP, commandHelp } from "./help.ts";
import { didYouMean } from "../scenario/suggest.ts";

type Command = (args: string[]) => Promise<number>;

// Each command is loaded when it is used: start-up stays short (no serialport, zod or
// testcontainers for `rig --help`), which matters for every run in a CI loop.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import("./run.ts")).runCommand,
  locks: async () => (await import("./locks.ts")).locksCommand,
  validate: async () => (await import("./validate.ts")).validateCommand,
  list: async () => (await import("./list.ts")).listCommand,
  doctor: async () => (await import("./doctor.ts")).doctorCommand,
  power: async () => (await import("./board-commands.ts")).powerCommand,
  reset: async () => (await import("./board-commands.ts")).resetCommand,
  flash: async () => (await import("./board-commands.ts")).flashCommand,
  console: async () => (await import("./console.ts")).consoleCommand,
  attach: async () => (await import("./attach.ts")).attachCommand,
  resume: async () => (await import("./attach.ts")).resumeCommand,
  report: async () => (await import("./report.ts")).reportCommand,
  merge: async () => (await import("./merge.ts")).mergeCommand,
  raw: async () => (await import("./raw.ts")).rawCommand,
};

/** Commands that start servers, boards and tools: nothing of theirs may outlive them. */
const STARTS_CHILDREN = new Set(["run", "power", "reset", "flash", "console"]);

async function guardChildren(): Promise<void> {
  const { startChildRegistry } = await import("../core/child-registry.ts");
  const reaped = await startChildRegistry();
  for (const r of reaped) process.stderr.write(`rig: stopped what a killed run (${r.owner}) left running: ${r.what} (process group ${r.pgid})\n`);
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    const topic = first === "help" ? rest[0] : undefined;
    if (topic === "steps" || topic === "step") return (await import("./help-steps.ts")).helpStepsCommand(topic, rest.slice(1));
    process.stdout.write(topic ? commandHelp(topic) : HELP);
    return first === undefined ? EXIT_CODES.scenario : EXIT_CODES.pass;
  }
  if (first === "--version" || first === "-V") {
    process.stdout.write("otarig 0.1.0\n");
    return 0;
  }
  const load = COMMANDS[first];
  const startsChildren = STARTS_CHILDREN.has(first) || (!load && (/\.ya?ml$/.test(first) || first.includes("/")));
  if (startsChildren) await guardChildren();
  if (load) return (await load())(rest);
  if (/\.ya?ml$/.test(first) || first.includes("/")) return (await COMMANDS.run!())(argv);
  process.stderr.write(`rig: unknown command "${first}"${didYouMean(first, Object.keys(COMMANDS))}\nRun "rig --help" for the list.\n`);
  return EXIT_CODES.scenario;
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
