// Board profile files: what differs between firmwares (prompt, device.* commands, result patterns).
import { z } from "zod";
import { ScenarioError } from "../core/errors.ts";
import type { BoardProfile, DeviceAction, ProfilePattern } from "./types.ts";
import { check } from "./validate.ts";
import { readYamlSource, throwIfErrors } from "./yaml-source.ts";
import type { FileRef, YamlSource } from "./yaml-source.ts";

/** A mapping of optional strings, one per key, each described. */
const optionalStrings = <K extends string>(described: Record<K, string>) =>
  z.strictObject(Object.fromEntries(Object.entries(described).map(([k, d]) => [k, z.string().optional().describe(d as string)])) as Record<K, z.ZodOptional<z.ZodString>>);

const COMMANDS: Record<DeviceAction, string> = {
  configure: "sets one setting: {key} and {value}",
  activate: "activates the device (gets its CIK)",
  check: "asks the server whether an update is there",
  download: "downloads the update",
  install: "installs the downloaded image",
  confirm: "confirms the running image after a trial boot",
  reboot: "reboots",
  status: "prints the running image (slot, version, hash)",
};
const PATTERNS: Record<ProfilePattern, string> = {
  booted: "the boot banner (named groups such as version and sha256 become ${<board>.<group>})",
  boot_failed: "the bootloader found nothing to boot (a power-cut sweep calls the board bricked at once)",
  configured: "a setting was taken",
  activated: "activation succeeded",
  update_available: "check found an update",
  up_to_date: "check found none",
  download_progress: "a progress line: (?<percent>…) or (?<done>…)/(?<total>…)",
  download_done: "the download is complete and checked",
  install_done: "the image is installed",
  confirmed: "the running image is confirmed",
  status: "the answer to status: (?<sha256>…) is the running image's hash",
  error: "the firmware reports an error: ends any device step's wait at once",
};

export const profileSchema = z.strictObject({
  name: z.string().min(1).describe("the profile's name"),
  prompt: z.string().min(1).optional().describe("regex of the shell prompt (may end without a newline): commands wait for it"),
  line_ending: z.string().default("\n").describe("sent after each command (default \\n)"),
  commands: optionalStrings(COMMANDS).default({}).describe("the console command of each device.* action"),
  patterns: optionalStrings(PATTERNS).default({}).describe("regexes of the lines that answer them, each matched against one console line"),
  fatal: z.array(z.string().min(1)).default([]).describe("lines that mean the firmware died (panic, watchdog, failed assert): they fail the running step at once"),
});

export async function loadProfile(file: string, ref?: FileRef): Promise<BoardProfile> {
  const { value, errors } = readProfileSource(await readYamlSource(file, ref));
  throwIfErrors(errors);
  return value!;
}

export function readProfileSource(src: YamlSource): { value?: BoardProfile; errors: ScenarioError[] } {
  if (src.errors.length > 0) return { errors: src.errors };
  const { value, errors } = check(profileSchema, src.data, src, [], { what: "profile" });
  if (!value) return { errors };
  // Patterns are used as JS RegExps at run time: a bad one is the profile's error, found now.
  for (const [key, source] of Object.entries(value.patterns)) errors.push(...regexErrors(source, src, ["patterns", key]));
  if (value.prompt !== undefined) errors.push(...regexErrors(value.prompt, src, ["prompt"]));
  value.fatal.forEach((source, i) => errors.push(...regexErrors(source, src, ["fatal", i], `fatal[${i}]`)));
  if (errors.length > 0) return { errors };
  const profile: BoardProfile = {
    file: src.absPath,
    name: value.name,
    lineEnding: value.line_ending,
    commands: stripUndefined(value.commands),
    patterns: stripUndefined(value.patterns),
    fatal: value.fatal,
  };
  if (value.prompt !== undefined) profile.prompt = value.prompt;
  return { value: profile, errors };
}

export function regexErrors(source: string | undefined, src: YamlSource, path: (string | number)[], name = path.join(".")): ScenarioError[] {
  if (source === undefined) return [];
  try {
    new RegExp(source);
    return [];
  } catch (err) {
    return [new ScenarioError(`${name}: not a valid regular expression: ${(err as Error).message}`, src.pos(path))];
  }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
