// "did you mean --x?": the known flag nearest to an unknown one by edit distance.

/** Levenshtein distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length];
}

/** The closest of `known` to `name` when it is close enough to be a typo (a third of its
 *  length, at least 2 edits), or when one starts with the other; null otherwise. */
export function nearest(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  if (best === null) return null;
  if (bestDistance <= Math.max(2, Math.floor(name.length / 3))) return best;
  const prefixed = known.filter((k) => k.startsWith(name) || name.startsWith(k));
  return prefixed.length === 1 ? prefixed[0] : null;
}
