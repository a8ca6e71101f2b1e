// Logprobs of one row of raw logits: log_softmax, rank and top-k alternatives, as vLLM reports
// them (the raw model distribution, before any sampling transformation).
import type { TokenLogprobs } from '../sampling/types.js';

/** log(sum(exp(row))) computed stably in f64. */
export function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum);
}

/** Indices of the k largest entries of `row`, largest first (ties: lower index first). */
export function topKIndices(row: Float32Array, k: number): number[] {
  const n = Math.min(k, row.length);
  if (n <= 0) return [];
  // Keep the running top n sorted descending; insertion is cheap for the small k asked for.
  const idx: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (idx.length === n && !(v > row[idx[n - 1]])) continue;
    let pos = idx.length === n ? n - 1 : idx.length;
    while (pos > 0 && v > row[idx[pos - 1]]) pos--;
    if (idx.length === n) idx.pop();
    idx.splice(pos, 0, i);
  }
  return idx;
}

/** Logprob and rank of `tokenId`, plus the top `numLogprobs` alternatives. */
export function tokenLogprobs(row: Float32Array, tokenId: number, numLogprobs: number): TokenLogprobs {
  const lse = logSumExp(row);
  const chosen = row[tokenId];
  // vLLM's rank: how many entries are >= the chosen one (1 for the argmax).
  let rank = 0;
  for (let i = 0; i < row.length; i++) if (row[i] >= chosen) rank++;
  const top = topKIndices(row, numLogprobs).map((i) => [i, row[i] - lse] as const);
  return { logprob: chosen - lse, rank, top };
}
