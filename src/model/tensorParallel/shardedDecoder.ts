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
import type { TextStepInputs, TextWorkspace } from '../textDecoder.js';

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
  const n = s.numTokens;
  const residual = ws.rows(ws.residual, n);
  const normed = ws.rows(ws.normed, n);
  const qw = local.numHeads * local.headDim;
  const kw = local.numKvHeads * local.headDim;
  const q = backend.view(ws.qkv, [n, qw], 0);
  const k = backend.view(ws.qkv, [n, kw], n * qw);
  const v = backend.view(ws.qkv, [n, kw], n * (qw + kw));
  const qkvRow = n === 1 ? backend.view(ws.qkv, [1, qw + 2 * kw], 0) : null;
  const attn = ws.rows(ws.attn, n);
  const proj = ws.rows(ws.proj, n);
  const gateUp = ws.rows(ws.gateUp, n);
  const act = ws.rows(ws.act, n);
  const eps = local.rmsNormEps;
  const scale = 1 / Math.sqrt(local.headDim);
  for (let l = 0; l < w.layers.length; l++) {
    const layer = w.layers[l];
    if (l === 0) backend.rmsNorm(normed, residual, layer.attentionNorm, eps);
    else backend.addRmsNorm(normed, residual, proj, layer.attentionNorm, eps);
    if (qkvRow) {
      backend.linear(qkvRow, normed, layer.wqkv);
    } else {
      backend.linear(q, normed, layer.wq);
      backend.linear(k, normed, layer.wk);
      backend.linear(v, normed, layer.wv);
    }
    backend.ropeText(q, k, s.positions, local.numHeads, local.numKvHeads, local.headDim, local.ropeTheta);
    backend.writeKv(s.kCaches[l], s.vCaches[l], k, v, s.slotMapping);
    backend.pagedAttention({
      out: attn,
      q,
      kCache: s.kCaches[l],
      vCache: s.vCaches[l],
      meta: s.meta,
      numHeads: local.numHeads,
      numKvHeads: local.numKvHeads,
      headDim: local.headDim,
      scale,
    });
    backend.linear(proj, attn, layer.wo);
    await comm.allReduceSum(proj);
    backend.addRmsNorm(normed, residual, proj, layer.ffnNorm, eps);
    backend.linear(gateUp, normed, layer.w13);
    backend.siluAndMul(act, gateUp);
    backend.linear(proj, act, layer.w2);
    await comm.allReduceSum(proj);
  }
  if (w.layers.length === 0) backend.rmsNorm(normed, residual, w.norm, eps);
  else backend.addRmsNorm(normed, residual, proj, w.norm, eps);
}
