// Load-time checks of power-cut sweeps against the rig and the profiles, so that a sweep that
// cannot work fails before anything starts: a board with no boot pattern to classify by, no
// power to cut, no flasher to recover with; a write cut on a board that does not report its
// writes; points a cut cannot take (nth < 1, an offset beyond what the update writes).
import { statSync } from "node:fs";
import { ScenarioError } from "../core/errors.ts";
import { sweepPoints, type PointsSpec } from "../sweep/points.ts";
import type { Locator } from "./check-refs.ts";
import type { SweepParams } from "./steps.ts";
import type { BoardProfile, BoardSpec, RigSpec, Scenario, Step } from "./types.ts";
import { isRecord } from "./yaml-source.ts";
import type { Path } from "./yaml-source.ts";

const POINT = "${sweep.point}";

/** Boards whose flash writes the harness hears page by page (a QEMU guest: its install only). */
export function reportsWrites(spec: BoardSpec): boolean {
  return spec.virtual !== undefined || spec.qemu !== undefined;
}

export function checkSweeps(scenario: Scenario, rig: RigSpec, profiles: Record<string, BoardProfile>, at: Locator): ScenarioError[] {
  const errors: ScenarioError[] = [];
  const err = (message: string, path: Path, part?: "key" | "value") => errors.push(new ScenarioError(message, at.pos(path, part)));

  const walk = (steps: Step[], sweep?: { step: Step; points: number[]; imageBytes?: number }): void => {
    for (const step of steps) {
      const path = at.pathOf(step);
      if (step.name === "fault.power_cut" && isRecord(step.params)) checkCut(step.params, [...path, step.name], sweep);
      if (step.name === "sweep" && isRecord(step.params)) {
        const inner = checkSweep(step.params as SweepParams, [...path, "sweep"]);
        for (const body of step.children ?? []) walk(body, { step, ...inner });
      } else for (const body of step.children ?? []) walk(body, sweep);
    }
  };

  const checkSweep = (p: SweepParams, path: Path): { points: number[]; imageBytes?: number } => {
    const spec = rig.boards[p.board];
    if (spec) {
      const profile = profiles[spec.profile];
      if (profile && profile.patterns.booted === undefined) {
        err(`a sweep tells old from new by the boot line: the profile of board ${p.board} (${profile.file}) has no patterns.booted (a regex with (?<sha256>…) of the running image)`, [...path, "board"]);
      }
      if (!spec.power) err(`a sweep cuts the power: board ${p.board} has no power control in rig ${rig.name} (power: { relay: …, channel: … })`, [...path, "board"]);
      if (!spec.flash && p.stop_on !== "bricked") {
        err(`a sweep restores a bricked board through the rig's flasher before the next point: board ${p.board} has no flash: in rig ${rig.name} (add one, or stop_on: bricked)`, [...path, "board"]);
      }
    }
    const imageBytes = sizeOf(resolveVar(p.target, scenario.vars));
    return { points: sweepPoints(p.points as PointsSpec), ...(imageBytes !== undefined ? { imageBytes } : {}) };
  };

  const checkCut = (p: Record<string, unknown>, path: Path, sweep?: { step: Step; points: number[]; imageBytes?: number }): void => {
    const spec = typeof p.board === "string" ? rig.boards[p.board] : undefined;
    if (p.write !== undefined && spec && !reportsWrites(spec)) {
      err(`a write: cut needs a board that reports its flash writes (a virtual or QEMU board); board ${p.board} does not: cut it at a console line (when:, nth:, after:)`, [...path, "write"], "key");
    }
    if (!sweep) return;
    const pointsAt = sweep.step.pos;
    if (p.nth === POINT) {
      const bad = sweep.points.filter((n) => !Number.isInteger(n) || n < 1);
      if (bad.length) err(`nth: ${POINT} needs whole-number points >= 1, got ${bad.join(", ")} (the sweep at line ${pointsAt.line})`, [...path, "nth"]);
    }
    if (p.write === POINT) {
      const bad = sweep.points.filter((n) => !Number.isInteger(n) || n < 0);
      if (bad.length) err(`write: ${POINT} needs whole-number byte offsets >= 0, got ${bad.join(", ")} (the sweep at line ${pointsAt.line})`, [...path, "write"]);
      if (sweep.imageBytes !== undefined) {
        // The update writes the image twice: into the download area, then into a slot.
        const limit = p.area !== undefined ? sweep.imageBytes : 2 * sweep.imageBytes;
        const beyond = sweep.points.filter((n) => n >= limit);
        if (beyond.length) {
          const range = p.area !== undefined ? `its ${String(p.area)} area holds ${limit} bytes` : `the update writes ${sweep.imageBytes} bytes to the download area, then ${sweep.imageBytes} to a slot`;
          err(`points beyond the range: ${beyond.join(", ")} (${range}: offsets 0-${limit - 1})`, [...path, "write"]);
        }
      }
    }
  };

  walk(scenario.steps);
  return errors;
}

/** A target written as "${name}" of a var is that var's value (a path, resolved by the loader). */
function resolveVar(value: string, vars: Record<string, string>): string {
  const m = /^\$\{(?:vars\.)?([A-Za-z_][\w-]*)\}$/.exec(value);
  return m && vars[m[1]!] !== undefined ? vars[m[1]!]! : value;
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}
