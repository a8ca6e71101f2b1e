// On-disk tensor names of both checkpoint layouts mapped onto the canonical names of
// src/model/weights.ts, and the shape every canonical tensor must have under a ModelConfig.
import type { ModelConfig } from './config.js';

/** Per-layer module names, canonical -> HF text (Mistral decoder layer) / HF vision (Pixtral). */
const LAYER_PARTS: readonly (readonly [canonical: string, hfText: string, hfVision: string])[] = [
  ['attention_norm', 'input_layernorm', 'attention_norm'],
  ['ffn_norm', 'post_attention_layernorm', 'ffn_norm'],
  ['attention.wq', 'self_attn.q_proj', 'attention.q_proj'],
  ['attention.wk', 'self_attn.k_proj', 'attention.k_proj'],
  ['attention.wv', 'self_attn.v_proj', 'attention.v_proj'],
  ['attention.wo', 'self_attn.o_proj', 'attention.o_proj'],
  ['feed_forward.w1', 'mlp.gate_proj', 'feed_forward.gate_proj'],
  ['feed_forward.w2', 'mlp.down_proj', 'feed_forward.down_proj'],
  ['feed_forward.w3', 'mlp.up_proj', 'feed_forward.up_proj'],
];
const HF_TEXT_PART = new Map(LAYER_PARTS.map(([c, t]) => [t, c]));
const HF_VISION_PART = new Map(LAYER_PARTS.map(([c, , v]) => [v, c]));
const CANONICAL_PARTS = new Set(LAYER_PARTS.map(([c]) => c));

const HF_TEXT_TOP: Readonly<Record<string, string>> = { 'embed_tokens': 'tok_embeddings', 'norm': 'norm' };
const HF_VISION_TOP: Readonly<Record<string, string>> = { 'patch_conv': 'vision.patch_conv', 'ln_pre': 'vision.ln_pre' };
const HF_PROJECTOR: Readonly<Record<string, string>> = {
  'norm': 'projector.norm',
  'patch_merger.merging_layer': 'projector.patch_merger',
  'linear_1': 'projector.linear_1',
  'linear_2': 'projector.linear_2',
};
const MISTRAL_TOP: Readonly<Record<string, string>> = {
  'tok_embeddings': 'tok_embeddings',
  'norm': 'norm',
  'output': 'output',
  'vision_encoder.patch_conv': 'vision.patch_conv',
  'vision_encoder.ln_pre': 'vision.ln_pre',
  'pre_mm_projector_norm': 'projector.norm',
  'patch_merger.merging_layer': 'projector.patch_merger',
  'vision_language_adapter.w_in': 'projector.linear_1',
  'vision_language_adapter.w_out': 'projector.linear_2',
};

const LAYER_RE = /^layers\.(\d+)\.(.+)$/;

function stripWeight(name: string): string | null {
  return name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : null;
}

/** Text decoder module path (inside MistralModel) -> canonical name. */
function hfTextModule(path: string): string | null {
  if (path in HF_TEXT_TOP) return HF_TEXT_TOP[path];
  const m = LAYER_RE.exec(path);
  const part = m && HF_TEXT_PART.get(m[2]);
  return part ? `layers.${m[1]}.${part}` : null;
}

/** Pixtral module path (inside PixtralVisionModel) -> canonical name. */
function hfVisionModule(path: string): string | null {
  if (path in HF_VISION_TOP) return HF_VISION_TOP[path];
  const m = /^transformer\.layers\.(\d+)\.(.+)$/.exec(path);
  const part = m && HF_VISION_PART.get(m[2]);
  return part ? `vision.layers.${m[1]}.${part}` : null;
}

/**
 * HF name -> canonical name, or null when the name is not part of the architecture.
 * Accepts both naming generations of Mistral3ForConditionalGeneration
 * (`language_model.model.*`, `language_model.lm_head`, `vision_tower.*`, `multi_modal_projector.*`
 * and, transformers >= 4.52, `model.language_model.*`, `lm_head`, `model.vision_tower.*`,
 * `model.multi_modal_projector.*`) and, with `textOnly`, MistralForCausalLM (`model.*`, `lm_head`).
 */
export function canonicalFromHf(name: string, textOnly: boolean): string | null {
  const path = stripWeight(name);
  if (path === null) return null;
  if (textOnly) {
    if (path === 'lm_head') return 'output';
    return path.startsWith('model.') ? hfTextModule(path.slice('model.'.length)) : null;
  }
  if (path === 'lm_head' || path === 'language_model.lm_head') return 'output';
  for (const prefix of ['language_model.model.', 'model.language_model.']) {
    if (path.startsWith(prefix)) return hfTextModule(path.slice(prefix.length));
  }
  for (const prefix of ['vision_tower.', 'model.vision_tower.']) {
    if (path.startsWith(prefix)) return hfVisionModule(path.slice(prefix.length));
  }
  for (const prefix of ['multi_modal_projector.', 'model.multi_modal_projector.']) {
    if (path.startsWith(prefix)) return HF_PROJECTOR[path.slice(prefix.length)] ?? null;
  }
  return null;
}

/** Mistral consolidated name -> canonical name, or null when not part of the architecture. */
export function canonicalFromMistral(name: string): string | null {
  const path = stripWeight(name);
  if (path === null) return null;
  if (path in MISTRAL_TOP) return MISTRAL_TOP[path];
  let m = LAYER_RE.exec(path);
  if (m && CANONICAL_PARTS.has(m[2])) return path;
  m = /^vision_encoder\.transformer\.layers\.(\d+)\.(.+)$/.exec(path);
  if (m && CANONICAL_PARTS.has(m[2])) return `vision.layers.${m[1]}.${m[2]}`;
  return null;
}

/**
 * Every canonical tensor the config requires, with its shape ([out, in] for linear maps).
 * Map order: text, then vision, then projector.
 */
export function expectedShapes(config: ModelConfig): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  const t = config.text;
  out.set('tok_embeddings', [t.vocabSize, t.hiddenSize]);
  const layer = (prefix: string, d: number, heads: number, kvHeads: number, hd: number, inter: number) => {
    out.set(`${prefix}.attention_norm`, [d]);
    out.set(`${prefix}.ffn_norm`, [d]);
    out.set(`${prefix}.attention.wq`, [heads * hd, d]);
    out.set(`${prefix}.attention.wk`, [kvHeads * hd, d]);
    out.set(`${prefix}.attention.wv`, [kvHeads * hd, d]);
    out.set(`${prefix}.attention.wo`, [d, heads * hd]);
    out.set(`${prefix}.feed_forward.w1`, [inter, d]);
    out.set(`${prefix}.feed_forward.w2`, [d, inter]);
    out.set(`${prefix}.feed_forward.w3`, [inter, d]);
  };
  for (let l = 0; l < t.numLayers; l++) layer(`layers.${l}`, t.hiddenSize, t.numHeads, t.numKvHeads, t.headDim, t.intermediateSize);
  out.set('norm', [t.hiddenSize]);
  if (!t.tiedEmbeddings) out.set('output', [t.vocabSize, t.hiddenSize]);
  const v = config.vision;
  const p = config.projector;
  if (v && p) {
    out.set('vision.patch_conv', [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize]);
    out.set('vision.ln_pre', [v.hiddenSize]);
    for (let l = 0; l < v.numLayers; l++) layer(`vision.layers.${l}`, v.hiddenSize, v.numHeads, v.numHeads, v.headDim, v.intermediateSize);
    if (p.hasPreNorm) out.set('projector.norm', [v.hiddenSize]);
    out.set('projector.patch_merger', [v.hiddenSize, v.hiddenSize * p.spatialMergeSize ** 2]);
    out.set('projector.linear_1', [t.hiddenSize, v.hiddenSize]);
    out.set('projector.linear_2', [t.hiddenSize, t.hiddenSize]);
  }
  return out;
}

/** For wq/wk: how many heads their rows hold (the RoPE permutation works per head); else null. */
export function ropeHeads(canonical: string, config: ModelConfig): number | null {
  if (/^layers\.\d+\.attention\.wq$/.test(canonical)) return config.text.numHeads;
  if (/^layers\.\d+\.attention\.wk$/.test(canonical)) return config.text.numKvHeads;
  if (config.vision && /^vision\.layers\.\d+\.attention\.w[qk]$/.test(canonical)) return config.vision.numHeads;
  return null;
}

/**
 * A quantization scale tensor's on-disk name split into the weight it belongs to and its role:
 * `<module><weightSuffix>` (compressed-tensors `.weight_scale`, Mistral `.qscale_weight`) or
 * `<module><inputSuffix>` (`.input_scale`, `.qscale_act`) -> { weightName: `<module>.weight` }.
 * E.g. language_model.model.layers.3.self_attn.q_proj.weight_scale belongs to
 * language_model.model.layers.3.self_attn.q_proj.weight (canonical layers.3.attention.wq), and
 * layers.3.attention.wq.qscale_weight to layers.3.attention.wq.weight. null: not a scale.
 */
export function splitScaleName(diskName: string, weightSuffix: string, inputSuffix: string): { weightName: string; role: 'weight' | 'input' } | null {
  for (const [suffix, role] of [[weightSuffix, 'weight'], [inputSuffix, 'input']] as const) {
    if (diskName.endsWith(suffix)) return { weightName: `${diskName.slice(0, -suffix.length)}.weight`, role };
  }
  return null;
}

/** Canonical names that are linear layers' [out, in] weights (what may be stored as FP8):
 *  every layer projection of the text decoder and the vision encoder, and the projector's
 *  patch merger and two linears. Not lm_head (`output`), the embeddings or the patch conv. */
export function isLinearWeightName(canonical: string): boolean {
  return /^(vision\.)?layers\.\d+\.(attention\.w[qkvo]|feed_forward\.w[123])$/.test(canonical) || /^projector\.(patch_merger|linear_[12])$/.test(canonical);
}
