import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseHfConfig, parseMistralParams, type ParsedConfig } from '../../src/model/configLoader.js';
import { expectedShapes } from '../../src/model/weightNames.js';
import type { ModelConfig } from '../../src/model/config.js';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers/paths.js';

// Mistral-Small-3.1-24B-Base-2503 as published (config.json in its transformers 4.50 form, with
// rope_theta keys, and params.json): the package ships both as the built-in config
// assets/configs/mistral-small-3.1-24b/ (src/model/builtinConfigs.ts).
const publishedDir = join(repoRoot, 'assets', 'configs', 'mistral-small-3.1-24b');
const REAL_HF = JSON.parse(readFileSync(join(publishedDir, 'config.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const REAL_PARAMS = JSON.parse(readFileSync(join(publishedDir, 'params.json'), 'utf8')) as Record<string, unknown>;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const asConfig = (p: ParsedConfig): ModelConfig => ({ ...p, dtype: p.declaredDtype ?? 'bf16' });
const withoutFormat = (p: ParsedConfig) => ({ ...p, format: null, declaredDtype: null, text: { ...p.text, maxPositionEmbeddings: 0 } });

test('Mistral Small 3.1: config.json and params.json give the docs/model.md#dimensions dimensions and parameter count', () => {
  const hf = parseHfConfig(clone(REAL_HF), 'config.json');
  const mi = parseMistralParams(clone(REAL_PARAMS), 'params.json');
  assert.deepEqual(withoutFormat(hf), withoutFormat(mi));
  assert.equal(hf.format, 'hf');
  assert.equal(mi.format, 'mistral');
  assert.equal(hf.declaredDtype, 'bf16');
  assert.equal(hf.text.maxPositionEmbeddings, 131072);
  assert.equal(mi.text.maxPositionEmbeddings, 128000, 'params.json without max_seq_len: vLLM default');
  assert.equal(parseMistralParams({ ...clone(REAL_PARAMS), max_position_embeddings: 131072 }, 'params.json').text.maxPositionEmbeddings, 131072);
  assert.equal(parseMistralParams({ ...clone(REAL_PARAMS), max_seq_len: 4096, max_position_embeddings: 131072 }, 'params.json').text.maxPositionEmbeddings, 4096);
  assert.deepEqual(hf.text, {
    hiddenSize: 5120, intermediateSize: 32768, numLayers: 40, numHeads: 32, numKvHeads: 8, headDim: 128,
    rmsNormEps: 1e-5, ropeTheta: 1e9, maxPositionEmbeddings: 131072, vocabSize: 131072,
  });
  assert.deepEqual(hf.vision, {
    hiddenSize: 1024, intermediateSize: 4096, numLayers: 24, numHeads: 16, headDim: 64, patchSize: 14,
    imageSize: 1540, numChannels: 3, ropeTheta: 1e4, rmsNormEps: 1e-5, hiddenAct: 'silu',
  });
  assert.deepEqual(hf.projector, { spatialMergeSize: 2, hasPreNorm: true, hiddenAct: 'gelu' });
  assert.deepEqual([hf.imageTokenId, hf.imageBreakTokenId, hf.imageEndTokenId], [10, 12, 13]);

  const shapes = expectedShapes(asConfig(hf));
  assert.deepEqual(shapes.get('layers.0.attention.wq'), [4096, 5120]);
  const count = (prefix: (n: string) => boolean) =>
    [...shapes].filter(([n]) => prefix(n)).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  const text = count((n) => !n.startsWith('vision.') && !n.startsWith('projector.'));
  const vision = count((n) => n.startsWith('vision.'));
  const projector = count((n) => n.startsWith('projector.'));
  // docs/model.md#dimensions: text 23.57B, vision 0.40B, projector 0.036B, about 24.0B in all
  assert.ok(Math.abs(text / 1e9 - 23.57) < 0.005, `text ${text}`);
  assert.ok(Math.abs(vision / 1e9 - 0.40) < 0.005, `vision ${vision}`);
  assert.ok(Math.abs(projector / 1e9 - 0.036) < 0.0005, `projector ${projector}`);
});

test('the fixtures\' v5 config.json (rope_parameters, axial vision RoPE) and params.json agree with the generator spec', () => {
  for (const name of ['tiny-a', 'tiny-b']) {
    const spec = (JSON.parse(readFileSync(fixture('models', name, 'reference.json'), 'utf8')) as { spec: Record<string, Record<string, number | null>> }).spec;
    const hf = parseHfConfig(JSON.parse(readFileSync(fixture('models', name, 'hf', 'config.json'), 'utf8')), 'config.json');
    const mi = parseMistralParams(JSON.parse(readFileSync(fixture('models', name, 'mistral', 'params.json'), 'utf8')), 'params.json');
    for (const c of [hf, mi]) {
      const t = spec.text;
      assert.deepEqual(
        [c.text.hiddenSize, c.text.numLayers, c.text.numHeads, c.text.numKvHeads, c.text.headDim, c.text.intermediateSize, c.text.vocabSize, c.text.ropeTheta],
        [t.hidden, t.layers, t.heads, t.kv_heads, t.head_dim, t.inter, t.vocab, t.theta],
        name,
      );
      const v = spec.vision;
      assert.ok(c.vision);
      assert.deepEqual(
        [c.vision.hiddenSize, c.vision.numLayers, c.vision.numHeads, c.vision.intermediateSize, c.vision.imageSize, c.vision.ropeTheta, c.vision.hiddenAct],
        [v.hidden, v.layers, v.heads, v.inter, v.image_size, v.theta, 'silu'],
        name,
      );
    }
    assert.equal(hf.text.maxPositionEmbeddings, spec.text.max_pos);
    assert.equal(mi.text.maxPositionEmbeddings, spec.text.max_seq_len ?? 128000);
    assert.equal(hf.declaredDtype, 'bf16');
  }
});

test('head_dim absent means hidden / heads; vision hidden_act gelu, or absent (gelu in transformers), is refused naming the field', () => {
  const j = clone(REAL_HF) as unknown as Record<string, Record<string, unknown>>;
  delete j.text_config.head_dim;
  const c = parseHfConfig(j, 'config.json');
  assert.equal(c.text.headDim, 160);
  assert.equal(c.vision?.hiddenAct, 'silu');
  j.vision_config.hidden_act = 'gelu';
  assert.throws(() => parseHfConfig(j, '/m/config.json'), /\/m\/config\.json vision_config: field hidden_act: "gelu" is not supported: the vision MLP runs SiLU-gated only/);
  delete j.vision_config.hidden_act;
  assert.throws(() => parseHfConfig(j, '/m/config.json'), /vision_config: field hidden_act: absent, which transformers reads as "gelu" is not supported/);
  const p = clone(REAL_PARAMS) as Record<string, unknown>;
  delete p.head_dim;
  assert.equal(parseMistralParams(p, 'params.json').text.headDim, 160);
});

test('a plain text-only mistral config.json has no vision part', () => {
  const j = { ...clone(REAL_HF.text_config), architectures: ['MistralForCausalLM'], torch_dtype: 'float16' };
  const c = parseHfConfig(j, 'config.json');
  assert.equal(c.vision, null);
  assert.equal(c.projector, null);
  assert.equal(c.text.hiddenSize, 5120);
  assert.equal(c.declaredDtype, 'f16');
});

test('unknown architectures and unsupported features are rejected naming the file and field', () => {
  const bad = (mutate: (j: Record<string, Record<string, unknown>>) => void, re: RegExp) => {
    const j = clone(REAL_HF) as unknown as Record<string, Record<string, unknown>>;
    mutate(j);
    assert.throws(() => parseHfConfig(j, '/m/config.json'), re);
  };
  assert.throws(
    () => parseHfConfig({ model_type: 'llama', architectures: ['LlamaForCausalLM'] }, '/m/config.json'),
    /\/m\/config\.json: unsupported architecture LlamaForCausalLM \(model_type "llama"\)/,
  );
  bad((j) => delete j.text_config.hidden_size, /\/m\/config\.json text_config: field hidden_size is missing/);
  bad((j) => (j.text_config.num_hidden_layers = 2.5), /field num_hidden_layers must be a positive integer, got 2\.5/);
  bad((j) => (j.text_config.rope_parameters = { rope_type: 'yarn', factor: 4 }), /rope_type: "yarn" is not supported/);
  bad((j) => (j.text_config.rope_scaling = { type: 'linear' }), /field rope_scaling: scaled RoPE/);
  bad((j) => (j.text_config.sliding_window = 4096), /field sliding_window: sliding-window attention/);
  bad((j) => (j.text_config.num_key_value_heads = 5), /32 query heads are not a multiple of 5 KV heads/);
  bad((j) => (j.vision_config.hidden_act = 'relu'), /vision_config: field hidden_act: "relu" is not supported/);
  bad((j) => (j.vision_config.head_dim = 32), /vision_config: field head_dim: 32 disagrees/);
  bad((j) => ((j as Record<string, unknown>).multimodal_projector_bias = true), /multimodal_projector_bias: projector biases/);
  bad((j) => ((j as Record<string, unknown>).vision_feature_layer = [-1, -2]), /vision_feature_layer/);
  bad((j) => ((j as Record<string, unknown>).text_config = 'x'), /field text_config must be an object/);
  const p = clone(REAL_PARAMS) as unknown as Record<string, Record<string, unknown>>;
  p.vision_encoder.mm_projector_id = '';
  assert.throws(() => parseMistralParams(p, '/m/params.json'), /\/m\/params\.json vision_encoder: field mm_projector_id: "" is not supported/);
  assert.throws(() => parseMistralParams({ ...clone(REAL_PARAMS), moe: {} }, '/m/params.json'), /field moe: mixture-of-experts/);
  assert.throws(() => parseMistralParams({ ...clone(REAL_PARAMS), dim: undefined }, '/m/params.json'), /\/m\/params\.json: field dim is missing/);
  assert.throws(() => parseMistralParams({ ...clone(REAL_PARAMS), quantization_config: { qformat_weight: 'fp8_e4m3' } }, '/m/params.json'), /field quantization_config: quantization "fp8_e4m3" is not supported/);
  bad((j) => ((j as Record<string, unknown>).quantization_config = { quant_method: 'fp8' }), /\/m\/config\.json: field quantization_config: quantization "fp8" is not supported/);
  bad((j) => ((j as Record<string, unknown>).quantization_config = { quant_method: 'awq', bits: 4 }), /field quantization_config: quantization "awq" is not supported/);
});
