// One rank's share of the text decoder (src/model/textDecoder.ts, the same ops in the same
// order on the rank's slices): per layer
//   n = rmsnorm(x); q,k,v of the rank's heads; attention over its KV heads;
//   proj = wo_r(attn_r), all-reduced -> the full wo(attn); h = x + proj (every rank alike)
//   m = rmsnorm(h); act_r = silu(w1_r m) * w3_r m; proj = w2_r(act_r), all-reduced
// then the final rmsnorm. The residual stream [n, d] is whole and identical on every rank.
import type { Backend } from '../../backend/backend.js';
import type { Collective } from '../../backend/collectives.js';
import type { TextConfig } from '../config.js';
import type { TextWeights } from '../deviceWeights.js';
import { textLayerSteps, type TextStepInputs, type TextWorkspace } from '../textDecoder.js';

/**
 * Runs rank `comm.rank`'s decoder layers over the embeddings in `ws.residual` (first numTokens
 * rows, already all-reduced) and leaves the final-normed hidden states in `ws.normed`.
 * `local` is the rank's config (localTextConfig): its heads and intermediate rows; `ws` and
 * the KV caches are sized by it.
 */
export async function runShardedTextDecoder(
  backend: Backend,
  comm: Collective,
  local: TextConfig,
  w: TextWeights,
  ws: TextWorkspace,
  s: TextStepInputs,
): Promise<void> {
  const steps = textLayerSteps(backend, local, w, ws, s);
  for (let l = 0; l < w.layers.length; l++) {
    steps.attention(l);
    await comm.allReduceSum(steps.proj);
    steps.mlp(l);
    await comm.allReduceSum(steps.proj);
  }
  steps.finish();
}
