// `rig validate <file…>`: checks scenario, rig and profile files without touching anything.
// The kind of file is told by its content: `steps` -> scenario, a `boards` mapping -> rig,
// `commands`/`patterns` -> profile. A rig's check includes the profiles of all its boards.
import { ScenarioError } from "../core/errors.ts";
import type { RigSpec } from "./types.ts";
import { readScenarioSource } from "./load-scenario.ts";
import { readRigSource } from "./load-rig.ts";
import { readProfileSource } from "./load-profile.ts";
import { errorsOf, isRecord, readYamlSource } from "./yaml-source.ts";
import type { YamlSource } from "./yaml-source.ts";

export type FileKind = "scenario" | "rig" | "profile";

export interface FileReport {
  file: string;
  kind?: FileKind;
  errors: ScenarioError[];
}

export function detectKind(data: unknown): FileKind | undefined {
  if (!isRecord(data)) return undefined;
  if ("steps" in data) return "scenario";
  if (isRecord(data.boards) || "relays" in data) return "rig";
  if ("commands" in data || "patterns" in data || "prompt" in data) return "profile";
  return undefined;
}

export async function validateFiles(files: string[]): Promise<FileReport[]> {
  const reports: FileReport[] = [];
  for (const file of files) {
    let src: YamlSource;
    try {
      src = await readYamlSource(file);
    } catch (err) {
      reports.push({ file, errors: errorsOf(err) });
      continue;
    }
    reports.push(await validateSource(src));
  }
  return reports;
}

async function validateSource(src: YamlSource): Promise<FileReport> {
  const file = src.file;
  if (src.errors.length > 0) return { file, errors: src.errors };
  const kind = detectKind(src.data);
  if (kind === "scenario") return { file, kind, errors: (await readScenarioSource(src)).errors };
  if (kind === "profile") return { file, kind, errors: readProfileSource(src).errors };
  if (kind === "rig") {
    const r = readRigSource(src);
    return { file, kind, errors: r.value ? [...r.errors, ...(await profileErrors(r.value, src))] : r.errors };
  }
  const message = "cannot tell what this file is: a scenario has steps:, a rig has a boards: mapping, a profile has commands: or patterns:";
  return { file, errors: [new ScenarioError(message, src.pos([]))] };
}

async function profileErrors(rig: RigSpec, src: YamlSource): Promise<ScenarioError[]> {
  const errors: ScenarioError[] = [];
  const seen = new Set<string>();
  for (const board of Object.values(rig.boards)) {
    if (seen.has(board.profile)) continue;
    seen.add(board.profile);
    try {
      const ref = { what: `profile of board ${board.name}`, pos: src.pos(["boards", board.name, "profile"]) };
      errors.push(...readProfileSource(await readYamlSource(board.profile, ref)).errors);
    } catch (err) {
      errors.push(...errorsOf(err));
    }
  }
  return errors;
}

