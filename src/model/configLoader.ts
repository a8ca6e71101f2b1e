// Normalises HF config.json (model_type "mistral3", or "mistral" for a text-only model) and
// Mistral params.json into one ModelConfig (src/model/config.ts). Anything this engine would
// run differently from the reference (another architecture, scaled RoPE, sliding windows,
// biases, a different projector) is rejected with the field that says so.
import { readFile } from 'node:fs/promises';
import { CheckpointError } from './checkpointError.js';
import type { ModelConfig, ProjectorConfig, TextConfig, VisionConfig, WeightDType } from './config.js';
import { Fields, type Json } from './configFields.js';
import type { Fp8Quantization } from './quantization.js';
import { parseCompressedTensors, parseMistralQuantization, quantizationFields } from './quantizationConfig.js';

/** Defaults when a file does not say (mistral_common / vLLM values for Mistral Small 3.1). */
const IMAGE_TOKEN_ID = 10;
const IMAGE_BREAK_TOKEN_ID = 12;
const IMAGE_END_TOKEN_ID = 13;
/** vLLM's max_model_len for a params.json without max_seq_len. */
const MISTRAL_DEFAULT_MAX_SEQ_LEN = 128000;
/** Pixtral's RMSNorms use eps 1e-5 whatever the config says (transformers hard-codes it). */
const PIXTRAL_NORM_EPS = 1e-5;

export async function readJsonFile(path: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CheckpointError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError(`${path}: expected a JSON object`);
  return json as Json;
}

/**
 * The one place a quantization block of a config is judged (HF quantization_config, Mistral
 * quantization): the FP8 formats this engine loads are parsed (quantizationConfig.ts), every
 * other one is refused by name, before any weight is read. Returns null when `key` is absent.
 */
function checkQuantization(f: Fields, key: string, where: string): Fp8Quantization | null {
  if (!f.has(key)) return null;
  const q = f.raw(key);
  const declaredIn = `${where}: field ${key}`;
  if (key === 'quantization') return parseMistralQuantization(quantizationFields(f, key, where), declaredIn);
  const method = typeof q === 'object' && q !== null ? (q as Json).quant_method ?? (q as Json).qformat_weight ?? (q as Json).method : q;
  if (method === 'compressed-tensors' && !where.endsWith('params.json')) return parseCompressedTensors(quantizationFields(f, key, where), declaredIn);
  const name = typeof method === 'string' ? `"${method}"` : JSON.stringify(q);
  return f.fail(key, `quantization ${name} is not supported (tramontane loads compressed-tensors FP8 in config.json and fp8_e4m3 in params.json's quantization); use a bf16 checkpoint`);
}

function headDim(f: Fields, hidden: number, heads: number, key = 'head_dim'): number {
  if (f.has(key)) return f.int(key);
  if (hidden % heads !== 0) f.fail(key, `absent, and hidden size ${hidden} is not a multiple of ${heads} heads`);
  return hidden / heads;
}

/** RoPE theta from either `rope_theta` or v5's `rope_parameters: {rope_theta, rope_type}`. */
function ropeTheta(f: Fields, allowedTypes: readonly string[], fallback: number): number {
  if (f.has('rope_scaling')) f.fail('rope_scaling', `scaled RoPE (${JSON.stringify(f.raw('rope_scaling'))}) is not supported`);
  if (f.has('rope_parameters')) {
    const rp = f.sub('rope_parameters');
    const type = rp.str('rope_type', 'default');
    if (!allowedTypes.includes(type)) rp.fail('rope_type', `"${type}" is not supported (only ${allowedTypes.join(', ')})`);
    if (rp.has('rope_theta')) return rp.num('rope_theta');
  }
  return f.num('rope_theta', fallback);
}

function checkGqa(f: Fields, heads: number, kvHeads: number, key: string): void {
  if (heads % kvHeads !== 0) f.fail(key, `${heads} query heads are not a multiple of ${kvHeads} KV heads`);
}

/** `tiedEmbeddings`: the output projection is the embedding table (no lm_head tensor). */
function hfText(f: Fields, tiedEmbeddings: boolean): TextConfig {
  for (const key of ['attention_bias', 'mlp_bias'] as const) if (f.raw(key) === true) f.fail(key, 'biases are not supported');
  const act = f.str('hidden_act', 'silu');
  if (act !== 'silu') f.fail('hidden_act', `"${act}" is not supported (the text MLP is SiLU-gated)`);
  const hiddenSize = f.int('hidden_size');
  const numHeads = f.int('num_attention_heads');
  const numKvHeads = f.int('num_key_value_heads', numHeads);
  checkGqa(f, numHeads, numKvHeads, 'num_key_value_heads');
  const maxPositionEmbeddings = f.int('max_position_embeddings', 131072); // transformers' default
  if (f.has('sliding_window') && f.int('sliding_window') < maxPositionEmbeddings) {
    f.fail('sliding_window', `sliding-window attention (${f.raw('sliding_window')}) is not supported`);
  }
  return {
    hiddenSize,
    intermediateSize: f.int('intermediate_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim: headDim(f, hiddenSize, numHeads),
    rmsNormEps: f.num('rms_norm_eps', 1e-6), // transformers' MistralConfig default
    ropeTheta: ropeTheta(f, ['default'], 10000),
    maxPositionEmbeddings,
    vocabSize: f.int('vocab_size'),
    ...(tiedEmbeddings ? { tiedEmbeddings } : {}),
  };
}

/** transformers' tie_word_embeddings: a boolean when present, else `fallback`. */
function tieFlag(f: Fields, fallback: boolean): boolean {
  const v = f.raw('tie_word_embeddings');
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') f.fail('tie_word_embeddings', `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** The vision MLP is SiLU-gated here (the backend has no GELU-gated op); anything else is refused
 *  when the config is read, before a byte of weights is. */
function visionAct(f: Fields, value: string, absent: boolean): 'silu' {
  if (value === 'silu') return value;
  const why = absent ? 'absent, which transformers reads as "gelu"' : `"${value}"`;
  return f.fail('hidden_act', `${why} is not supported: the vision MLP runs SiLU-gated only (Mistral Small 3.1 declares "silu")`);
}

function pixtralHeadDim(f: Fields, hidden: number, heads: number): number {
  // transformers' PixtralAttention always uses hidden / heads; a config head_dim must agree.
  if (hidden % heads !== 0) f.fail('num_attention_heads', `hidden size ${hidden} is not a multiple of ${heads} heads`);
  if (f.has('head_dim') && f.int('head_dim') !== hidden / heads) f.fail('head_dim', `${f.raw('head_dim')} disagrees with hidden_size / num_attention_heads = ${hidden / heads}`);
  return hidden / heads;
}

function hfVision(f: Fields): VisionConfig {
  const hiddenSize = f.int('hidden_size');
  const numHeads = f.int('num_attention_heads');
  return {
    hiddenSize,
    intermediateSize: f.int('intermediate_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads,
    headDim: pixtralHeadDim(f, hiddenSize, numHeads),
    patchSize: f.int('patch_size'),
    imageSize: f.int('image_size'),
    numChannels: f.int('num_channels', 3),
    ropeTheta: ropeTheta(f, ['default', 'axial'], 10000),
    rmsNormEps: PIXTRAL_NORM_EPS,
    // transformers' PixtralVisionConfig defaults to gelu when the field is absent
    hiddenAct: visionAct(f, f.str('hidden_act', 'gelu'), !f.has('hidden_act')),
  };
}

function parseDtype(value: unknown): WeightDType | null {
  switch (value) {
    case 'bfloat16': return 'bf16';
    case 'float16': return 'f16';
    case 'float32': return 'f32';
    default: return null;
  }
}

/** A ModelConfig whose dtype is still to be read off the weights (the files are the truth). */
export type ParsedConfig = Omit<ModelConfig, 'dtype'> & { readonly declaredDtype: WeightDType | null };

/** HF config.json. */
export function parseHfConfig(json: Json, path: string): ParsedConfig {
  const top = new Fields(json, path);
  const modelType = top.str('model_type', '');
  const archs = Array.isArray(json.architectures) ? (json.architectures as unknown[]).join(', ') : '(none)';
  const declaredDtype = parseDtype(json.dtype ?? json.torch_dtype);
  if (modelType === 'mistral') {
    const quantization = checkQuantization(top, 'quantization_config', path);
    return {
      text: hfText(top, tieFlag(top, false)), vision: null, projector: null,
      imageTokenId: IMAGE_TOKEN_ID, imageBreakTokenId: IMAGE_BREAK_TOKEN_ID, imageEndTokenId: IMAGE_END_TOKEN_ID,
      declaredDtype, format: 'hf', ...(quantization ? { quantization } : {}),
    };
  }
  if (modelType !== 'mistral3') {
    throw new CheckpointError(
      `${path}: unsupported architecture ${archs} (model_type ${JSON.stringify(json.model_type ?? null)}); tramontane runs Mistral 3 (model_type "mistral3", Mistral Small 3.1) and text-only "mistral" checkpoints`,
    );
  }
  const quantization = checkQuantization(top, 'quantization_config', path);
  if (top.raw('multimodal_projector_bias') === true) top.fail('multimodal_projector_bias', 'projector biases are not supported');
  const layer = top.raw('vision_feature_layer');
  if (layer !== undefined && layer !== -1) top.fail('vision_feature_layer', `${JSON.stringify(layer)} is not supported (only -1, the last layer)`);
  const act = top.str('projector_hidden_act', 'gelu');
  if (act !== 'gelu') top.fail('projector_hidden_act', `"${act}" is not supported (only exact gelu)`);
  const textCfg = top.sub('text_config');
  const tmt = textCfg.str('model_type', 'mistral');
  if (tmt !== 'mistral') textCfg.fail('model_type', `text model "${tmt}" is not supported (only mistral)`);
  const visionCfg = top.sub('vision_config');
  const vmt = visionCfg.str('model_type', 'pixtral');
  if (vmt !== 'pixtral') visionCfg.fail('model_type', `vision model "${vmt}" is not supported (only pixtral)`);
  const projector: ProjectorConfig = { spatialMergeSize: top.int('spatial_merge_size', 2), hasPreNorm: true, hiddenAct: 'gelu' };
  const imageTokenId = json.image_token_index ?? json.image_token_id;
  return {
    // transformers ties by the top-level flag of the composite config; the text config's is the fallback.
    text: hfText(textCfg, tieFlag(top, tieFlag(textCfg, false))),
    vision: hfVision(visionCfg),
    projector,
    imageTokenId: typeof imageTokenId === 'number' ? imageTokenId : IMAGE_TOKEN_ID,
    imageBreakTokenId: IMAGE_BREAK_TOKEN_ID,
    imageEndTokenId: IMAGE_END_TOKEN_ID,
    declaredDtype: declaredDtype ?? parseDtype((json.text_config as Json).dtype ?? (json.text_config as Json).torch_dtype),
    format: 'hf',
    ...(quantization ? { quantization } : {}),
  };
}

/** Mistral params.json (with an optional vision_encoder block). */
export function parseMistralParams(json: Json, path: string): ParsedConfig {
  const f = new Fields(json, path);
  if (f.has('moe')) f.fail('moe', 'mixture-of-experts models are not supported');
  if (f.has('lora')) f.fail('lora', 'LoRA checkpoints are not supported');
  if (f.has('quantization') && f.has('quantization_config')) f.fail('quantization_config', 'given beside quantization: one quantization block only');
  const quantization = checkQuantization(f, 'quantization', path) ?? checkQuantization(f, 'quantization_config', path);
  const quantized = quantization ? { quantization } : {};
  if (f.has('llama_4_scaling')) f.fail('llama_4_scaling', 'attention temperature scaling is not supported');
  if (f.has('sliding_window')) f.fail('sliding_window', 'sliding-window attention is not supported');
  const hiddenSize = f.int('dim');
  const numHeads = f.int('n_heads');
  const numKvHeads = f.int('n_kv_heads', numHeads);
  checkGqa(f, numHeads, numKvHeads, 'n_kv_heads');
  if (f.has('rope_scaling') || f.has('yarn')) f.fail(f.has('yarn') ? 'yarn' : 'rope_scaling', 'scaled RoPE is not supported');
  const text: TextConfig = {
    hiddenSize,
    intermediateSize: f.int('hidden_dim'),
    numLayers: f.int('n_layers'),
    numHeads,
    numKvHeads,
    headDim: headDim(f, hiddenSize, numHeads),
    rmsNormEps: f.num('norm_eps'),
    ropeTheta: f.num('rope_theta', 10000),
    maxPositionEmbeddings: f.has('max_seq_len') ? f.int('max_seq_len') : f.int('max_position_embeddings', MISTRAL_DEFAULT_MAX_SEQ_LEN),
    vocabSize: f.int('vocab_size'),
    ...(f.raw('tied_embeddings') === true ? { tiedEmbeddings: true } : {}),
  };
  if (!f.has('vision_encoder')) {
    return {
      text, vision: null, projector: null,
      imageTokenId: IMAGE_TOKEN_ID, imageBreakTokenId: IMAGE_BREAK_TOKEN_ID, imageEndTokenId: IMAGE_END_TOKEN_ID,
      declaredDtype: null, format: 'mistral', ...quantized,
    };
  }
  const v = f.sub('vision_encoder');
  if (v.raw('adapter_bias') === true) v.fail('adapter_bias', 'projector biases are not supported');
  const projectorId = v.str('mm_projector_id', '');
  if (projectorId !== 'patch_merge') v.fail('mm_projector_id', `${JSON.stringify(projectorId)} is not supported (only "patch_merge", as in Mistral Small 3.1)`);
  const vHidden = v.int('hidden_size');
  const vHeads = v.int('num_attention_heads');
  const vision: VisionConfig = {
    hiddenSize: vHidden,
    intermediateSize: v.int('intermediate_size'),
    numLayers: v.int('num_hidden_layers'),
    numHeads: vHeads,
    headDim: pixtralHeadDim(v, vHidden, vHeads),
    patchSize: v.int('patch_size'),
    imageSize: v.int('image_size', v.has('max_image_size') ? v.int('max_image_size') : undefined),
    numChannels: v.int('num_channels', 3),
    ropeTheta: v.num('rope_theta', 10000),
    rmsNormEps: PIXTRAL_NORM_EPS,
    hiddenAct: 'silu', // the Mistral-format Pixtral encoder is always SiLU-gated
  };
  return {
    text,
    vision,
    projector: {
      spatialMergeSize: v.int('spatial_merge_size', 1),
      hasPreNorm: v.raw('add_pre_mm_projector_layer_norm') === true,
      hiddenAct: 'gelu',
    },
    imageTokenId: v.int('image_token_id', IMAGE_TOKEN_ID),
    imageBreakTokenId: v.int('image_break_token_id', IMAGE_BREAK_TOKEN_ID),
    imageEndTokenId: v.int('image_end_token_id', IMAGE_END_TOKEN_ID),
    declaredDtype: null,
    format: 'mistral',
    ...quantized,
  };
}
