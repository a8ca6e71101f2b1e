// Prompt lookup (vLLM's "ngram" method): the last n tokens (n from prompt_lookup_max down to
// prompt_lookup_min) are looked up earlier in prompt + output; the tokens that followed the
// most recent earlier occurrence are the proposal.
import type { EngineRequest } from '../request.js';
import type { Proposer } from './proposer.js';

/** Up to `k` tokens following the latest earlier match of the longest suffix of `tokens`
 *  of length in [minN, maxN]; [] when none matches. */
export function ngramLookup(tokens: ArrayLike<number>, k: number, minN: number, maxN: number): number[] {
  const len = tokens.length;
  for (let n = Math.min(maxN, len - 1); n >= minN; n--) {
    const suffix = len - n;
    for (let s = suffix - 1; s >= 0; s--) {
      let j = n - 1;
      while (j >= 0 && tokens[s + j] === tokens[suffix + j]) j--;
      if (j >= 0) continue;
      const out: number[] = [];
      for (let p = s + n; p < len && out.length < k; p++) out.push(tokens[p]);
      return out;
    }
  }
  return [];
}

export class NgramProposer implements Proposer {
  constructor(
    readonly promptLookupMin: number,
    readonly promptLookupMax: number,
  ) {}

  async propose(requests: readonly EngineRequest[], k: number): Promise<void> {
    for (const req of requests) {
      const tokens = req.outputTokenIds.length === 0 ? req.promptTokenIds : [...req.promptTokenIds, ...req.outputTokenIds];
      req.draftTokenIds = ngramLookup(tokens, k, this.promptLookupMin, this.promptLookupMax);
    }
  }
}
