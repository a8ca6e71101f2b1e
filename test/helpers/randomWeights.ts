// An in-memory WeightSource with random weights under the canonical names, for tests of the
// network's plumbing (cache consistency, batching) that need no reference logits.
import type { ModelConfig, WeightDType } from '../../src/model/config.js';
import type { HostTensor, WeightSource } from '../../src/model/weights.js';

export function tinyConfig(overrides: { vision?: boolean; dtype?: WeightDType } = {}): ModelConfig {
  const vision = overrides.vision ?? true;
  return {
    text: { hiddenSize: 48, intermediateSize: 80, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, rmsNormEps: 1e-5, ropeTheta: 1e6, maxPositionEmbeddings: 4096, vocabSize: 300 },
    vision: vision
      ? { hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 2, headDim: 16, patchSize: 4, imageSize: 64, numChannels: 3, ropeTheta: 1e4, rmsNormEps: 1e-5, hiddenAct: 'silu' }
      : null,
    projector: vision ? { spatialMergeSize: 2, hasPreNorm: true, hiddenAct: 'gelu' } : null,
    imageTokenId: 10,
    imageBreakTokenId: 12,
    imageEndTokenId: 13,
    dtype: overrides.dtype ?? 'f32',
    format: 'hf',
  };
}

function shapes(cfg: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const layer = (p: string, d: number, heads: number, kv: number, hd: number, inter: number) => {
    m.set(`${p}attention_norm`, [d]);
    m.set(`${p}ffn_norm`, [d]);
    m.set(`${p}attention.wq`, [heads * hd, d]);
    m.set(`${p}attention.wk`, [kv * hd, d]);
    m.set(`${p}attention.wv`, [kv * hd, d]);
    m.set(`${p}attention.wo`, [d, heads * hd]);
    m.set(`${p}feed_forward.w1`, [inter, d]);
    m.set(`${p}feed_forward.w3`, [inter, d]);
    m.set(`${p}feed_forward.w2`, [d, inter]);
  };
  const t = cfg.text;
  m.set('tok_embeddings', [t.vocabSize, t.hiddenSize]);
  m.set('norm', [t.hiddenSize]);
  m.set('output', [t.vocabSize, t.hiddenSize]);
  for (let l = 0; l < t.numLayers; l++) layer(`layers.${l}.`, t.hiddenSize, t.numHeads, t.numKvHeads, t.headDim, t.intermediateSize);
  const v = cfg.vision;
  if (v) {
    m.set('vision.patch_conv', [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize]);
    m.set('vision.ln_pre', [v.hiddenSize]);
    for (let l = 0; l < v.numLayers; l++) layer(`vision.layers.${l}.`, v.hiddenSize, v.numHeads, v.numHeads, v.headDim, v.intermediateSize);
    m.set('projector.norm', [v.hiddenSize]);
    m.set('projector.patch_merger', [v.hiddenSize, v.hiddenSize * 4]);
    m.set('projector.linear_1', [t.hiddenSize, v.hiddenSize]);
    m.set('projector.linear_2', [t.hiddenSize, t.hiddenSize]);
  }
  return m;
}

/** Deterministic random weights (a simple LCG), norms around 1, matrices ~ N(0, 2/in). */
export function randomWeightSource(cfg: ModelConfig, seed = 1): WeightSource {
  const all = shapes(cfg);
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const tensors = new Map<string, HostTensor>();
  for (const [name, shape] of all) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    const isNorm = shape.length === 1;
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const spread = name === 'tok_embeddings' ? 1 : Math.sqrt(6 / fanIn);
    for (let i = 0; i < n; i++) values[i] = isNorm ? 0.8 + 0.4 * next() : (next() * 2 - 1) * spread;
    let data: Uint8Array;
    if (cfg.dtype === 'bf16') {
      const bits = new Uint16Array(n);
      const u = new Uint32Array(values.buffer);
      for (let i = 0; i < n; i++) bits[i] = u[i] >>> 16;
      data = new Uint8Array(bits.buffer);
    } else {
      data = new Uint8Array(values.buffer);
    }
    tensors.set(name, { name, dtype: cfg.dtype === 'bf16' ? 'bf16' : 'f32', shape, data });
  }
  return {
    config: cfg,
    names: () => [...tensors.keys()],
    has: (name) => tensors.has(name),
    get: async (name) => {
      const t = tensors.get(name);
      if (!t) throw new Error(`no tensor ${name}`);
      return t;
    },
    close: async () => {},
  };
}

/** Random normalised-looking pixels for an image of width x height. */
export function randomImage(width: number, height: number, seed = 7): { pixels: Float32Array; width: number; height: number } {
  let s = seed;
  const pixels = Float32Array.from({ length: 3 * width * height }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
  return { pixels, width, height };
}

/** Image tokens for an image of cols x rows merged tokens. */
export function imageTokens(cols: number, rows: number): number[] {
  const ids: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) ids.push(10);
    ids.push(12);
  }
  ids[ids.length - 1] = 13;
  return ids;
}
