// Every FP8 setting the engine does not load is refused by name when the checkpoint is opened
// (from config.json / params.json and the safetensors headers, before any weight byte is read):
// a malformed quantization_config, a missing scale, block and group strategies, num_bits != 8,
// integer types, asymmetric scales, F8_E5M2 data, weights the config and the files disagree
// on, stray scales, and --quantization fp8 on a checkpoint that is FP8 already.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { openRunner } from '../../src/engine/composition.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { CheckpointError } from '../../src/model/checkpointError.js';
import { loadModelWeights } from '../../src/model/deviceWeights.js';
import { checkQuantizationOption } from '../../src/model/modelSource.js';
import { parseCommandLine } from '../../src/cli/options/parse.js';
import { GENERATE_SPEC } from '../../src/cli/specs/generate.js';
import { writeFp8Checkpoint, type Fp8Variant } from '../helpers/fp8Checkpoint.js';
import { tempDir, type TensorToWrite } from '../helpers/safetensors.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const O_PROJ = 'language_model.model.layers.0.self_attn.o_proj';
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function refused(
  variant: Fp8Variant,
  edit: { tensors?: (ts: TensorToWrite[]) => TensorToWrite[]; config?: (c: Json) => void },
  message: RegExp,
): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    const { fp8Dir } = await writeFp8Checkpoint('tiny-b', variant, dir, edit);
    await assert.rejects(openCheckpoint(fp8Dir), (e: Error) => {
      assert.ok(e instanceof CheckpointError, `${e.name}: ${e.message}`);
      assert.match(e.message, message);
      return true;
    });
  } finally {
    await cleanup();
  }
}

const weights = (c: Json) => c.quantization_config.config_groups.group_0.weights;
const acts = (c: Json) => c.quantization_config.config_groups.group_0.input_activations;

test('a malformed quantization_config is refused naming the field', async () => {
  await refused('ct-channel', { config: (c) => (c.quantization_config = 'fp8-please') }, /config\.json: field quantization_config: quantization "fp8-please" is not supported/);
  await refused('ct-channel', { config: (c) => (c.quantization_config = ['compressed-tensors']) }, /field quantization_config: quantization .*compressed-tensors.* is not supported/);
  await refused('ct-channel', { config: (c) => delete c.quantization_config.config_groups }, /field config_groups: must be an object of one or more groups, got null/);
  await refused('ct-channel', { config: (c) => (c.quantization_config.config_groups.group_0.weights = 8) }, /config_groups group_0: field weights must be an object/);
  await refused('ct-channel', { config: (c) => (c.quantization_config.ignore = 're:vision_tower.*') }, /field ignore: must be a list of strings/);
  await refused('ct-channel', { config: (c) => c.quantization_config.ignore.push('re:(unclosed') }, /field ignore: "re:\(unclosed" is not a valid regular expression/);
  await refused('ct-channel', { config: (c) => (c.quantization_config.format = 'pack-quantized') }, /field format: "pack-quantized" is not supported \(only "float-quantized"/);
  await refused('ct-channel', { config: (c) => (c.quantization_config.kv_cache_scheme = { num_bits: 8, type: 'float' }) }, /field kv_cache_scheme: KV-cache quantization is not supported/);
  await refused('mistral-tensor', { config: (c) => (c.quantization = 'fp8') }, /params\.json: field quantization: malformed quantization config: expected an object, got "fp8"/);
});

test('unsupported schemes are refused by name: block and group strategies, num_bits, int, asymmetric, weight-only, static per-token', async () => {
  await refused('ct-channel', { config: (c) => Object.assign(weights(c), { strategy: 'block', block_structure: [128, 128] }) }, /group_0 weights: field strategy: "block": block scales \(block_structure \[128,128\]\) are not supported/);
  await refused('ct-channel', { config: (c) => Object.assign(weights(c), { strategy: 'group', group_size: 128 }) }, /group_0 weights: field strategy: "group": group scales \(group_size 128\) are not supported/);
  await refused('ct-channel', { config: (c) => Object.assign(weights(c), { strategy: null, group_size: 64 }) }, /field strategy: "group": group scales \(group_size 64\)/);
  await refused('ct-channel', { config: (c) => (weights(c).num_bits = 4) }, /group_0 weights: field num_bits: 4 bits are not supported \(only 8-bit FP8\)/);
  await refused('ct-channel', { config: (c) => (weights(c).type = 'int') }, /group_0 weights: field type: "int" quantization is not supported \(only "float", FP8 E4M3\)/);
  await refused('ct-channel', { config: (c) => (acts(c).symmetric = false) }, /group_0 input_activations: field symmetric: asymmetric quantization \(symmetric false, zero points\) is not supported/);
  await refused('ct-channel', { config: (c) => (weights(c).symmetric = false) }, /weights: field symmetric: asymmetric quantization/);
  await refused('ct-channel', { config: (c) => (weights(c).dynamic = true) }, /weights: field dynamic: dynamic weight quantization is not supported/);
  await refused('ct-channel', { config: (c) => delete c.quantization_config.config_groups.group_0.input_activations }, /field input_activations: is missing: weight-only FP8 \(W8A16\) is not supported/);
  await refused('ct-channel', { config: (c) => (acts(c).dynamic = false) }, /input_activations: field dynamic: static per-token activation scales are not supported/);
  await refused('ct-channel', { config: (c) => (acts(c).strategy = 'group') }, /input_activations: field strategy: "group"/);
  await refused('mistral-tensor', { config: (c) => (c.quantization.qformat_weight = 'int4') }, /params\.json quantization: field qformat_weight: quantization "int4" is not supported \(only "fp8_e4m3"\)/);
  await refused('mistral-tensor', { config: (c) => (c.quantization.qscheme_act = 'CHANNEL') }, /field qscheme_act: "CHANNEL" is not supported/);
});

test('the files must match the config: a missing scale, F8_E5M2, FP8 where the config says dense and dense where it says FP8, stray or misshapen scales', async () => {
  const drop = (name: string) => (ts: TensorToWrite[]) => ts.filter((t) => t.name !== name);
  await refused('ct-channel', { tensors: drop(`${O_PROJ}.weight_scale`) }, new RegExp(`missing scale ${esc(O_PROJ)}\\.weight_scale for the FP8 weight ${esc(O_PROJ)}\\.weight in .*model\\.safetensors`));
  await refused('ct-tensor-static', { tensors: drop(`${O_PROJ}.input_scale`) }, new RegExp(`missing scale ${esc(O_PROJ)}\\.input_scale .*declares static input scales`));
  await refused('mistral-tensor', { tensors: drop('layers.1.feed_forward.w2.qscale_weight') }, /missing scale layers\.1\.feed_forward\.w2\.qscale_weight for the FP8 weight layers\.1\.feed_forward\.w2\.weight/);
  await refused('mistral-tensor', { tensors: drop('layers.0.attention.wk.qscale_act') }, /missing scale layers\.0\.attention\.wk\.qscale_act/);
  await refused('ct-channel', { tensors: (ts) => ts.map((t) => (t.name === `${O_PROJ}.weight` ? { ...t, dtype: 'F8_E5M2' } : t)) }, new RegExp(`tensor ${esc(O_PROJ)}\\.weight in .* is F8_E5M2: only F8_E4M3 FP8 weights are supported`));
  // The ignore list no longer keeps the vision tower dense: its BF16 weights contradict the config.
  await refused('ct-channel', { config: (c) => (c.quantization_config.ignore = ['language_model.lm_head', 're:multi_modal_projector.*']) }, /tensor vision_tower\.transformer\.layers\.0\.attention\.[qkvo]_proj\.weight in .* is BF16 but .*quantization_config quantizes vision_tower\.transformer\.layers\.0\.attention\.[qkvo]_proj to FP8: expected F8_E4M3 data/);
  // The other way round: FP8 data in a layer the ignore list keeps dense.
  await refused('ct-channel', { config: (c) => c.quantization_config.ignore.push('re:language_model\\.model\\.layers\\.1\\.mlp') }, /tensor language_model\.model\.layers\.1\.mlp\.down_proj\.weight in .* is F8_E4M3 \(FP8\) but .*quantization_config leaves language_model\.model\.layers\.1\.mlp\.down_proj unquantized/);
  await refused('ct-channel', {
    tensors: (ts) => [...ts, { name: 'language_model.lm_head.weight_scale', dtype: 'F32', shape: [1300, 1], data: new Uint8Array(1300 * 4) }],
  }, /unexpected tensor language_model\.lm_head\.weight_scale in .*: language_model\.lm_head\.weight is not an FP8 weight/);
  await refused('ct-channel', {
    tensors: (ts) => [...ts, { name: `${O_PROJ}.input_scale`, dtype: 'F32', shape: [1], data: new Uint8Array(4) }],
  }, /unexpected tensor .*o_proj\.input_scale .*dynamic activation scales, so there is no input scale/);
  await refused('ct-channel', { tensors: (ts) => ts.map((t) => (t.name === `${O_PROJ}.weight_scale` ? { ...t, shape: [1, 60] } : t)) }, /scale .*o_proj\.weight_scale in .* has shape \[1, 60\]; a per-channel weight scale here is \[60, 1\] or \[60\]/);
  await refused('ct-channel', { tensors: (ts) => ts.map((t) => (t.name === `${O_PROJ}.weight_scale` ? { ...t, dtype: 'I16' } : t)) }, /scale .*o_proj\.weight_scale in .* is I16: per-channel weight scales must be F32, BF16 or F16/);
  await refused('ct-channel', {
    tensors: (ts) => ts.map((t) => (t.name === 'language_model.lm_head.weight' ? { ...t, dtype: 'F8_E4M3', data: t.data.subarray(0, t.data.byteLength / 2) } : t)),
    config: (c) => (c.quantization_config.ignore = ['re:vision_tower.*', 're:multi_modal_projector.*']),
  }, /tensor language_model\.lm_head\.weight in .* is F8_E4M3 \(FP8\): only linear layers' weights may be FP8 \(output is not one; lm_head, embeddings, norms and the patch conv stay dense\)/);
  await refused('ct-channel', { config: (c) => delete c.quantization_config }, /unexpected tensor .*weight_scale|is F8_E4M3 \(FP8\) but .*config\.json declares no quantization/);
});

test('a non-positive scale is refused when it is read; --quantization fp8 is refused for an FP8 checkpoint and unknown quantizations by name', async () => {
  const { dir, cleanup } = await tempDir();
  const backend = createCpuBackend({ threads: 1 });
  try {
    const neg = new Uint8Array(new Float32Array([-0.5]).buffer);
    const { fp8Dir } = await writeFp8Checkpoint('tiny-b', 'ct-tensor-static', dir, { tensors: (ts) => ts.map((t) => (t.name === `${O_PROJ}.weight_scale` ? { ...t, data: neg } : t)) });
    const ck = await openCheckpoint(fp8Dir);
    await assert.rejects(loadModelWeights(ck.weights, backend), /scale .*o_proj\.weight_scale in .* holds -0\.5 at element 0: scales must be positive and finite/);
    await assert.rejects(loadModelWeights(ck.weights, backend, { quantize: 'fp8' }), /quantization 'fp8' quantizes a bf16 checkpoint at load time, but this checkpoint is already FP8/);
    await ck.weights.close();
    await assert.rejects(openRunner({ model: fp8Dir, loadFormat: 'auto', quantization: 'fp8', device: 'cpu', threads: 1, maxModelLen: 64 }), /already FP8/);
  } finally {
    await backend.close();
    await cleanup();
  }
  assert.throws(() => checkQuantizationOption('awq'), /quantization must be one of fp8 \(got "awq"\)/);
  assert.throws(() => parseCommandLine(GENERATE_SPEC, ['--quantization', 'int8']), /--quantization must be one of fp8 \(got 'int8'\)/);
  assert.equal(parseCommandLine(GENERATE_SPEC, [])!.values.quantization, undefined);
});
