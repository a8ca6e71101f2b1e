// The device tensors a model's weights become (src/model/deviceWeights.ts), as data: each is
// the row concatenation of one or more canonical checkpoint tensors, with an optional shape.
// Loaders that place bytes themselves (src/model/parallelLoader.ts) allocate from this list.
import type { ModelConfig } from './config.js';

export interface PlannedWeight {
  /** The device tensor's name: the canonical name, or the fused one (`...attention.wqkv`,
   *  `...feed_forward.w13`). */
  readonly key: string;
  /** Canonical tensors stacked along rows, in order. */
  readonly parts: readonly string[];
  /** Shape of the device tensor when it is not the stack's [rows, ...cols]. */
  readonly shape?: readonly number[];
  /** A linear layer's weight [out, in] (model code multiplies it with Backend.linear), as
   *  opposed to a norm weight or a table. */
  readonly linear?: true;
}

/** Text decoder linears: what online FP8 quantization (`quantization: 'fp8'`) converts. The
 *  vision tower, the projector and lm_head stay dense, as in RedHat's FP8 checkpoints of
 *  Mistral Small 3.1 (their `ignore` list). */
export function isTextLinear(w: PlannedWeight): boolean {
  return w.linear === true && /^layers\.\d+\./.test(w.key);
}

function layer(prefix: string): PlannedWeight[] {
  const a = `${prefix}attention.`;
  const f = `${prefix}feed_forward.`;
  return [
    { key: `${a}wqkv`, parts: [`${a}wq`, `${a}wk`, `${a}wv`], linear: true },
    { key: `${prefix}attention_norm`, parts: [`${prefix}attention_norm`] },
    { key: `${a}wo`, parts: [`${a}wo`], linear: true },
    { key: `${prefix}ffn_norm`, parts: [`${prefix}ffn_norm`] },
    { key: `${f}w13`, parts: [`${f}w1`, `${f}w3`], linear: true },
    { key: `${f}w2`, parts: [`${f}w2`], linear: true },
  ];
}

const one = (name: string, shape?: readonly number[]): PlannedWeight => (shape ? { key: name, parts: [name], shape } : { key: name, parts: [name] });
const linear = (name: string, shape?: readonly number[]): PlannedWeight => ({ ...one(name, shape), linear: true });

/** Every device weight of `cfg`, in loadModelWeights' order. */
export function planWeights(cfg: ModelConfig): PlannedWeight[] {
  const out: PlannedWeight[] = [];
  for (let l = 0; l < cfg.text.numLayers; l++) out.push(...layer(`layers.${l}.`));
  out.push(one('tok_embeddings'), one('norm'));
  if (!cfg.text.tiedEmbeddings) out.push(one('output'));
  const v = cfg.vision;
  const p = cfg.projector;
  if (v && p) {
    for (let l = 0; l < v.numLayers; l++) out.push(...layer(`vision.layers.${l}.`));
    out.push(linear('vision.patch_conv', [v.hiddenSize, v.numChannels * v.patchSize * v.patchSize]), one('vision.ln_pre'));
    if (p.hasPreNorm) out.push(one('projector.norm'));
    out.push(linear('projector.patch_merger'), linear('projector.linear_1'), linear('projector.linear_2'));
  }
  return out;
}
