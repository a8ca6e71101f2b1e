// openModelSource: --model / --load-format / --tokenizer as vLLM reads them, over checkpoint
// directories, built-in configs and dummy weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_CONFIG_NAMES, loadBuiltinConfig } from '../../src/model/builtinConfigs.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { openModelSource, type LoadFormat } from '../../src/model/modelSource.js';
import { fixture } from '../helpers/paths.js';

test('the built-in Mistral Small 3.1 config: full dimensions from its config.json, dummy weights, no tokenizer', async () => {
  assert.deepEqual(BUILTIN_CONFIG_NAMES, ['mistral-small-3.1-24b']);
  const src = await openModelSource({ model: 'mistral-small-3.1-24b', loadFormat: 'dummy' });
  assert.ok(src.weights instanceof DummyWeightSource);
  assert.equal(src.tokenizerPath, null);
  assert.match(src.origin, /^built-in mistral-small-3\.1-24b/);
  const t = src.config.text;
  assert.deepEqual([t.hiddenSize, t.numLayers, t.numHeads, t.numKvHeads, t.headDim, t.intermediateSize, t.vocabSize], [5120, 40, 32, 8, 128, 32768, 131072]);
  assert.equal(t.maxPositionEmbeddings, 131072, 'the HF config.json: the full 128K window');
  assert.equal(src.config.vision?.hiddenAct, 'silu');
  assert.equal(src.config.vision?.numLayers, 24);
  assert.equal(src.config.dtype, 'bf16');
  assert.equal(src.config.format, 'hf');
  const mistral = await loadBuiltinConfig('mistral-small-3.1-24b', 'mistral');
  assert.equal(mistral.format, 'mistral');
  assert.deepEqual({ ...mistral.vision }, { ...src.config.vision });
  const tokenizer = fixture('models', 'tiny-a', 'mistral', 'tekken.json');
  const withTok = await openModelSource({ model: 'mistral-small-3.1-24b', loadFormat: 'dummy', tokenizerPath: tokenizer, seed: 9 });
  assert.equal(withTok.tokenizerPath, tokenizer);
  assert.equal((withTok.weights as DummyWeightSource).seed, 9);
});

test('auto opens checkpoints (default: the embedded tiny model); dummy keeps a directory\'s config and tokenizer', async () => {
  const def = await openModelSource({ loadFormat: 'auto' });
  try {
    assert.ok(def.tokenizerPath?.endsWith('tekken.json'));
    assert.ok(!(def.weights instanceof DummyWeightSource));
  } finally {
    await def.weights.close();
  }
  for (const layout of ['mistral', 'hf'] as const) {
    const dir = fixture('models', 'tiny-a', layout);
    const ck = await openCheckpoint(dir);
    const dummy = await openModelSource({ model: dir, loadFormat: 'dummy' });
    try {
      assert.ok(dummy.weights instanceof DummyWeightSource);
      assert.deepEqual({ ...dummy.config, dtype: null }, { ...ck.weights.config, dtype: null });
      assert.deepEqual([...dummy.weights.names()].sort(), [...ck.weights.names()].sort());
      assert.equal(dummy.tokenizerPath, ck.tokenizerPath, layout);
      const [a, b] = await Promise.all([dummy.weights.get('layers.0.attention.wk'), ck.weights.get('layers.0.attention.wk')]);
      assert.deepEqual(a.shape, b.shape);
      assert.notDeepEqual(a.data, b.data);
    } finally {
      await ck.weights.close();
    }
  }
});

test('bad sources are refused naming what is wrong', async () => {
  await assert.rejects(openModelSource({ model: 'mistral-small-3.1-24b', loadFormat: 'auto' }), /mistral-small-3\.1-24b is a built-in config without weights: use --load-format dummy/);
  await assert.rejects(openModelSource({ model: 'no-such-model', loadFormat: 'dummy' }), /model directory no-such-model does not exist \(nor is it a built-in config: mistral-small-3\.1-24b\)/);
  await assert.rejects(openModelSource({ model: '/no/such/dir', loadFormat: 'auto' }), /model directory \/no\/such\/dir does not exist$/);
  await assert.rejects(openModelSource({ model: fixture('full-width'), loadFormat: 'dummy' }), /full-width is not a model directory: it holds neither config\.json/);
  await assert.rejects(openModelSource({ model: fixture('full-width', 'reference.json'), loadFormat: 'dummy' }), /is not a directory/);
  await assert.rejects(openModelSource({ loadFormat: 'safetensors' as LoadFormat }), /unknown load format "safetensors" \(auto or dummy\)/);
  await assert.rejects(openModelSource({ model: 'mistral-small-3.1-24b', loadFormat: 'dummy', tokenizerPath: '/no/tekken.json' }), /tokenizer file \/no\/tekken\.json does not exist/);
  await assert.rejects(loadBuiltinConfig('mistral-large'), /unknown built-in model config "mistral-large" \(built-in: mistral-small-3\.1-24b\)/);
});
