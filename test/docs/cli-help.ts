// Checks `rig …` command lines against the CLI's own help: the docs tests and the CI-files test
// use it, so a command or option that is documented but does not exist fails a test.
import { expect } from "vitest";
import { HELP, commandHelp } from "../../harness/cli/help.ts";

/** The subcommands `rig --help` lists. */
export const COMMANDS = new Set([...HELP.matchAll(/^\s+rig (\w+)/gm)].map((m) => m[1]!));

/** Options main.ts takes before any command (`rig --help`, `rig --version`). */
export const TOP_LEVEL_OPTIONS = new Set(["--help", "--version"]);

/** `--[no-]power-on` → `--power-on`, `--no-power-on`; other options as they are. */
export function expandOption(option: string): string[] {
  const m = /^--\[no-\](.+)$/.exec(option);
  return m ? [`--${m[1]}`, `--no-${m[1]}`] : [option];
}

/**
 * Whether `command`'s help has `option`: a line of its own starting with it, or, for `--no-X`,
 * a line for `--X` and a mention of `--no-X` (as in "--power-on … (--no-power-on to skip)").
 */
export function hasOption(command: string, option: string): boolean {
  const help = commandHelp(command);
  const listed = (o: string) => new RegExp(`^\\s+${o.replace(/[-]/g, "\\-")}(\\s|=|,|$)`, "m").test(help);
  if (listed(option)) return true;
  const negated = /^--no-(.+)$/.exec(option);
  return negated !== null && listed(`--${negated[1]}`) && help.includes(option);
}

/** The subcommand a `rig` argument list runs: a listed command, else `run` for a path; undefined for an unknown word. */
export function subcommandOf(args: string[]): string | undefined {
  const first = args[0] ?? "";
  if (COMMANDS.has(first)) return first;
  if (/^[a-z][\w-]*$/.test(first)) return undefined; // a bare word: main.ts calls it an unknown command
  return "run";
}

/** Checks a call's subcommand and options against the CLI's own help; returns the subcommand. */
export function checkCall(args: string[]): string {
  if (args[0]?.startsWith("--") && args.every((a) => TOP_LEVEL_OPTIONS.has(a))) return "--";
  const sub = subcommandOf(args);
  expect(sub, `rig ${args.join(" ")}: "${args[0]}" is no rig command (have: ${[...COMMANDS].join(", ")})`).toBeDefined();
  for (const opt of args.filter((a) => /^--[\w[]/.test(a)).flatMap(expandOption)) {
    expect(hasOption(sub!, opt), `rig ${sub} has no option ${opt}`).toBe(true);
  }
  return sub!;
}
