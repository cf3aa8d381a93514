// `rig run --rig FILE`: run a scenario against another rig than the one it names. The other rig
// must have every board the scenario uses, each with the same profile as the scenario's own rig
// gives it (the scenario's device.* steps and patterns were written for that firmware). Checked
// at load time, so a mismatch touches nothing.
import { isDeepStrictEqual } from "node:util";
import { ScenarioError } from "../core/errors.ts";
import type { BoardProfile, RigSpec } from "./types.ts";
import { readRigSource } from "./load-rig.ts";
import { readProfileSource } from "./load-profile.ts";
import { didYouMean } from "./suggest.ts";
import { displayPath, errorsOf, readYamlSource } from "./yaml-source.ts";
import type { Path, YamlSource } from "./yaml-source.ts";

export interface RigOverride {
  rig?: RigSpec;
  rigSrc?: YamlSource;
  errors: ScenarioError[];
}

/**
 * Loads `file` as the rig to run `scenarioSrc` on, in place of `ownRig`.
 * `boards` are the board names the scenario uses, `boardsAt` where each was written (when the
 * scenario lists them; otherwise errors point at its `rig:` key).
 */
export async function readRigOverride(
  file: string,
  scenarioSrc: YamlSource,
  ownRig: RigSpec,
  boards: string[],
  boardsAt: (i: number) => Path,
): Promise<RigOverride> {
  const errors: ScenarioError[] = [];
  let rigSrc: YamlSource;
  try {
    rigSrc = await readYamlSource(file);
  } catch (err) {
    return { errors: errorsOf(err).map((e) => new ScenarioError(`--rig: ${e.message}`, e.position)) };
  }
  const r = readRigSource(rigSrc);
  if (!r.value) return { errors: r.errors };
  const rig = r.value;
  const shown = displayPath(rig.file);

  for (const [i, name] of boards.entries()) {
    const board = rig.boards[name];
    if (!board) {
      const known = Object.keys(rig.boards);
      errors.push(
        new ScenarioError(
          `board "${name}" is not in --rig ${rig.name} (${shown})${didYouMean(name, known)} (its boards: ${known.join(", ")})`,
          scenarioSrc.pos(boardsAt(i)),
        ),
      );
      continue;
    }
    const own = ownRig.boards[name]!.profile;
    if (board.profile === own) continue;
    const [theirs, ours] = await Promise.all([loadQuietly(board.profile), loadQuietly(own)]);
    if (!theirs) {
      errors.push(new ScenarioError(`profile of board "${name}" is missing or invalid: ${displayPath(board.profile)} (rig validate ${displayPath(rig.file)} says why)`, rigSrc.pos(["boards", name, "profile"])));
      continue;
    }
    // Another file is the same profile when it says the same things (a copy next to the other rig).
    if (!ours || !isDeepStrictEqual({ ...theirs, file: "" }, { ...ours, file: "" })) {
      errors.push(
        new ScenarioError(
          `board "${name}" has profile ${displayPath(board.profile)}, but scenario ${displayPath(scenarioSrc.absPath)} ` +
            `was written for ${displayPath(own)} (its rig ${displayPath(ownRig.file)}); use a rig whose board runs that firmware`,
          rigSrc.pos(["boards", name, "profile"]),
        ),
      );
    }
  }
  return errors.length > 0 ? { errors } : { rig, rigSrc, errors };
}

/** The profile in a file, or undefined when it is missing or invalid. */
async function loadQuietly(file: string): Promise<BoardProfile | undefined> {
  try {
    return readProfileSource(await readYamlSource(file)).value;
  } catch {
    return undefined;
  }
}
