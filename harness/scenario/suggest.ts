// "Did you mean …?" for misspelled keys, step names, board names and variables.
// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions: "baord" -> "board").

export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate, if it is close enough to be a plausible typo (case is ignored). */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  // A third of the word may be wrong, at least one character.
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDistance && dist <= limit) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

/** `, did you mean "x"?` or the empty string: appended to error messages. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggest(word, candidates);
  return s === undefined ? "" : `, did you mean "${s}"?`;
}

/** Names grouped by family, in order: "flash, power, device.*, vendor.*" (a dotted name is its family). */
export function families(names: Iterable<string>): string {
  const seen = new Set<string>();
  for (const n of names) seen.add(n.includes(".") ? `${n.slice(0, n.indexOf("."))}.*` : n);
  return [...seen].join(", ");
}

/**
 * For an unknown step: `, did you mean "x"?` when one is close; otherwise, since a guess would
 * mislead, the families to look in.
 */
export function unknownStepHint(word: string, steps: readonly string[], others: readonly string[] = []): string {
  const close = didYouMean(word, [...steps, ...others]);
  return close || ` (the steps: ${families(steps)}; rig help steps lists them with their parameters)`;
}
