// Parses the quantization blocks this engine loads into an Fp8Quantization (quantization.ts);
// every other setting is refused by name (configLoader.ts's checkQuantization is the one caller):
//   HF config.json quantization_config, quant_method "compressed-tensors", format
//     "float-quantized" (the definitions are compressed-tensors' QuantizationArgs and
//     QuantizationConfig, as vLLM's CompressedTensorsW8A8Fp8 reads them): each config group's
//     weights {num_bits 8, type float, symmetric, strategy channel|tensor, not dynamic} and
//     input_activations {num_bits 8, type float, symmetric, strategy token (dynamic) or tensor
//     (static input_scale, or dynamic)}; an `ignore` list of names and 're:' regexes.
//   Mistral params.json quantization: {qformat_weight: "fp8_e4m3", qscheme_act: "TENSOR"
//     (static .qscale_act, the default) | "NO_SCALES"}, per-tensor .qscale_weight, as vLLM
//     maps it (quant_method fp8); the vision encoder, the adapter and `output` stay dense.
import { CheckpointError } from './checkpointError.js';
import { Fields, type Json } from './configFields.js';
import { checkPattern, type Fp8Group, type Fp8Quantization, type Fp8Scheme } from './quantization.js';

const SUPPORTED_HINT = 'tramontane loads FP8 E4M3 with per-channel or per-tensor weight scales (docs/quantization.md)';

/** The common QuantizationArgs checks of an FP8 weight or activation block. */
function fp8Args(a: Fields, what: 'weights' | 'input_activations'): { strategy: string; dynamic: boolean } {
  const bits = a.raw('num_bits') ?? 8;
  if (bits !== 8) a.fail('num_bits', `${JSON.stringify(bits)} bits are not supported (only 8-bit FP8); ${SUPPORTED_HINT}`);
  const type = String(a.raw('type') ?? 'int').toLowerCase();
  if (type !== 'float') a.fail('type', `"${type}" quantization is not supported (only "float", FP8 E4M3); ${SUPPORTED_HINT}`);
  const symmetric = a.raw('symmetric') ?? true;
  if (symmetric !== true) a.fail('symmetric', `asymmetric quantization (symmetric ${JSON.stringify(symmetric)}, zero points) is not supported; ${SUPPORTED_HINT}`);
  const groupSize = a.raw('group_size');
  const block = a.raw('block_structure');
  const declared = a.raw('strategy');
  if (declared !== undefined && declared !== null && typeof declared !== 'string') a.fail('strategy', `must be a string, got ${JSON.stringify(declared)}`);
  // compressed-tensors infers a missing strategy from group_size: none -> tensor, -1 -> channel, > 0 -> group.
  const strategy = typeof declared === 'string' ? declared.toLowerCase() : groupSize === -1 ? 'channel' : typeof groupSize === 'number' && groupSize > 0 ? 'group' : 'tensor';
  if (strategy === 'group' || strategy === 'tensor_group' || strategy === 'block' || (block !== undefined && block !== null) || (typeof groupSize === 'number' && groupSize > 0)) {
    const detail = strategy === 'block' || (block !== undefined && block !== null) ? `block scales (block_structure ${JSON.stringify(block ?? null)})` : `group scales (group_size ${JSON.stringify(groupSize ?? null)})`;
    a.fail('strategy', `"${strategy}": ${detail} are not supported; ${SUPPORTED_HINT}`);
  }
  const allowed = what === 'weights' ? ['channel', 'tensor'] : ['token', 'tensor'];
  if (!allowed.includes(strategy)) a.fail('strategy', `"${strategy}" is not supported for ${what} (only ${allowed.join(' or ')})`);
  const dyn = a.raw('dynamic') ?? false;
  if (typeof dyn !== 'boolean') a.fail('dynamic', `${JSON.stringify(dyn)} is not supported (only true or false)`);
  const ao = a.raw('actorder');
  if (ao !== undefined && ao !== null && ao !== false) a.fail('actorder', `activation ordering (${JSON.stringify(ao)}) is not supported`);
  return { strategy, dynamic: dyn };
}

function parseScheme(g: Fields): Fp8Scheme {
  if (!g.has('weights')) g.fail('weights', 'is missing: a config group without weight quantization is not supported');
  const w = fp8Args(g.sub('weights'), 'weights');
  if (w.dynamic) g.sub('weights').fail('dynamic', 'dynamic weight quantization is not supported (FP8 weights are stored quantized)');
  if (!g.has('input_activations')) g.fail('input_activations', 'is missing: weight-only FP8 (W8A16) is not supported; the engine runs W8A8 with FP8 activations');
  const a = fp8Args(g.sub('input_activations'), 'input_activations');
  if (a.strategy === 'token' && !a.dynamic) g.sub('input_activations').fail('dynamic', 'static per-token activation scales are not supported (strategy "token" is dynamic)');
  if (g.has('output_activations')) g.fail('output_activations', 'output activation quantization is not supported');
  return { weights: w.strategy as Fp8Scheme['weights'], activations: a.dynamic ? 'dynamic' : 'static' };
}

function stringList(f: Fields, key: string): string[] {
  const v = f.raw(key) ?? [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) f.fail(key, `must be a list of strings, got ${JSON.stringify(v)}`);
  for (const entry of v as string[]) {
    const bad = checkPattern(entry);
    if (bad !== null) f.fail(key, `${JSON.stringify(entry)} is not a valid regular expression: ${bad}`);
  }
  return v as string[];
}

/** HF quantization_config of quant_method "compressed-tensors" (`q` is that object's fields). */
export function parseCompressedTensors(q: Fields, declaredIn: string): Fp8Quantization {
  const format = q.str('format', '');
  if (format !== 'float-quantized') q.fail('format', `${JSON.stringify(format || null)} is not supported (only "float-quantized": FP8 weights stored as F8_E4M3)`);
  const status = q.str('quantization_status', 'compressed');
  if (status !== 'compressed') q.fail('quantization_status', `"${status}" is not supported (only "compressed": weights stored quantized)`);
  if (q.has('kv_cache_scheme')) q.fail('kv_cache_scheme', 'KV-cache quantization is not supported');
  if (q.has('sparsity_config')) q.fail('sparsity_config', 'sparse checkpoints are not supported');
  if (q.has('transform_config')) q.fail('transform_config', 'transformed (rotated) checkpoints are not supported');
  const groupsField = q.raw('config_groups');
  if (typeof groupsField !== 'object' || groupsField === null || Array.isArray(groupsField) || Object.keys(groupsField).length === 0) {
    q.fail('config_groups', `must be an object of one or more groups, got ${JSON.stringify(groupsField ?? null)}`);
  }
  const cg = q.sub('config_groups');
  const groups: Fp8Group[] = Object.keys(groupsField as Json).map((name) => {
    const g = cg.sub(name);
    const gf = g.raw('format');
    if (gf !== undefined && gf !== null && gf !== 'float-quantized') g.fail('format', `${JSON.stringify(gf)} is not supported (only "float-quantized")`);
    const targets = stringList(g, 'targets');
    if (targets.length === 0) g.fail('targets', 'is empty: the group quantizes nothing');
    return { targets, scheme: parseScheme(g) };
  });
  return { method: 'compressed-tensors', groups, ignore: stringList(q, 'ignore'), weightScaleSuffix: '.weight_scale', inputScaleSuffix: '.input_scale', declaredIn };
}

/** Mistral params.json `quantization` (`q` is that object's fields). */
export function parseMistralQuantization(q: Fields, declaredIn: string): Fp8Quantization {
  const fmt = q.raw('qformat_weight');
  if (fmt !== 'fp8_e4m3') {
    const name = typeof fmt === 'string' ? `"${fmt}"` : JSON.stringify(fmt ?? null);
    q.fail('qformat_weight', `quantization ${name} is not supported (only "fp8_e4m3")`);
  }
  const act = q.raw('qscheme_act') ?? 'TENSOR';
  if (act !== 'TENSOR' && act !== 'NO_SCALES') q.fail('qscheme_act', `${JSON.stringify(act)} is not supported (only "TENSOR", static .qscale_act, or "NO_SCALES", dynamic)`);
  return {
    method: 'mistral',
    groups: [{ targets: ['Linear'], scheme: { weights: 'tensor', activations: act === 'TENSOR' ? 'static' : 'dynamic' } }],
    // vLLM's modules_to_not_convert for Mistral FP8 (lm_head, the vision tower, the projector), in Mistral names.
    ignore: ['output', 're:vision_encoder\\.', 're:vision_language_adapter\\.', 're:patch_merger\\.', 're:pre_mm_projector_norm'],
    weightScaleSuffix: '.qscale_weight',
    inputScaleSuffix: '.qscale_act',
    declaredIn,
  };
}

/** The quantization object of `key`, or a refusal naming a malformed one. */
export function quantizationFields(f: Fields, key: string, where: string): Fields {
  const q = f.raw(key);
  if (typeof q !== 'object' || q === null || Array.isArray(q)) throw new CheckpointError(`${where}: field ${key}: malformed quantization config: expected an object, got ${JSON.stringify(q)}`);
  return f.sub(key);
}
