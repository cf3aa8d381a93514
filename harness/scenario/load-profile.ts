// Board profile files: what differs between firmwares (prompt, device.* commands, result patterns).
import { z } from "zod";
import { ScenarioError } from "../core/errors.ts";
import { DEVICE_ACTIONS, PROFILE_PATTERNS } from "./types.ts";
import type { BoardProfile } from "./types.ts";
import { check } from "./validate.ts";
import { readYamlSource, throwIfErrors } from "./yaml-source.ts";
import type { FileRef, YamlSource } from "./yaml-source.ts";

const optionalStrings = <K extends string>(keys: readonly K[]) =>
  z.strictObject(Object.fromEntries(keys.map((k) => [k, z.string().optional()])) as Record<K, z.ZodOptional<z.ZodString>>);

export const profileSchema = z.strictObject({
  name: z.string().min(1),
  prompt: z.string().min(1).optional(),
  line_ending: z.string().default("\n"),
  commands: optionalStrings(DEVICE_ACTIONS).default({}),
  patterns: optionalStrings(PROFILE_PATTERNS).default({}),
  /** lines that mean the firmware died (panic, watchdog, failed assert): they fail the running step at once */
  fatal: z.array(z.string().min(1)).default([]),
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
