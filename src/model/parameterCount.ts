// Parameter count of a model from its config (for memory planning before any weight is read).
import type { ModelConfig } from './config.js';

function blockParams(d: number, heads: number, kvHeads: number, headDim: number, inter: number): number {
  const attention = d * heads * headDim + 2 * d * kvHeads * headDim + heads * headDim * d;
  return attention + 3 * d * inter + 2 * d; // + gate/up/down, two norms
}

export function parameterCount(cfg: ModelConfig): number {
  const t = cfg.text;
  let n = (t.tiedEmbeddings ? 1 : 2) * t.vocabSize * t.hiddenSize + t.hiddenSize + t.numLayers * blockParams(t.hiddenSize, t.numHeads, t.numKvHeads, t.headDim, t.intermediateSize);
  const v = cfg.vision;
  const p = cfg.projector;
  if (v && p) {
    n += v.hiddenSize * v.numChannels * v.patchSize * v.patchSize + v.hiddenSize;
    n += v.numLayers * blockParams(v.hiddenSize, v.numHeads, v.numHeads, v.headDim, v.intermediateSize);
    const mm = p.spatialMergeSize * p.spatialMergeSize;
    n += (p.hasPreNorm ? v.hiddenSize : 0) + v.hiddenSize * v.hiddenSize * mm + t.hiddenSize * v.hiddenSize + t.hiddenSize * t.hiddenSize;
  }
  return n;
}
