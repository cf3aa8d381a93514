// A failed assert.hash, taken apart for the header: the hash the board runs and the one the
// scenario expected, and which image each is. The step's message is the source
// (assert-steps.ts: "<board> runs sha256 <hex> (version V), expected <hex> (<image>)"); the
// names of other images come from the run's own step details ("app-1.1.0.bin … sha256 c093addb554c…").
import type { PageStep } from "./model.ts";

export interface HashFailure {
  board: string;
  actual: { hash: string; image: string };
  expected: { hash: string; image: string };
}

const MESSAGE = /^(\S+) runs sha256 ([0-9a-f]{64})(?: \(version ([^)]+)\))?, expected ([0-9a-f]{64}) \(([^)]+)\)/;

export function hashFailureOf(step: PageStep | undefined): HashFailure | undefined {
  if (!step || step.name !== "assert.hash" || step.status !== "failed" || !step.error) return undefined;
  const m = MESSAGE.exec(step.error);
  if (!m) return undefined;
  const [, board, actual, version, expected, expectedImage] = m as unknown as [string, string, string, string | undefined, string, string];
  return {
    board,
    actual: { hash: actual, image: version ? `version ${version}, as the board reports` : "unknown image" },
    expected: { hash: expected, image: expectedImage === expected ? "given as a digest" : expectedImage },
  };
}

/** Names the run's steps gave images ("app-1.0.0.bin … sha256 83d91d0076bf…"), by hash prefix. */
export function imageNames(steps: PageStep[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const s of steps) {
    const m = /([\w.-]+\.(?:bin|img|elf|hex))\b.*?sha256 ([0-9a-f]{12})/.exec(s.detail ?? "");
    if (m) names.set(m[2]!, m[1]!);
  }
  return names;
}

export function withKnownNames(f: HashFailure, steps: PageStep[]): HashFailure {
  const names = imageNames(steps);
  const known = names.get(f.actual.hash.slice(0, 12));
  return known ? { ...f, actual: { ...f.actual, image: `${known} (${f.actual.image})` } } : f;
}
