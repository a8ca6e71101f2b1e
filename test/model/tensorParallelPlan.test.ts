// The sharding plan (src/model/tensorParallel/shardPlan.ts): ranges per rank for Mistral Small
// 3.1 and the tiny models, refusals naming what does not divide, and host-tensor slicing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostTensor } from '../../src/backend/hostTensor.js';
import { loadBuiltinConfig, MISTRAL_SMALL_3_1 } from '../../src/model/builtinConfigs.js';
import type { TextConfig } from '../../src/model/config.js';
import { sliceHostTensor } from '../../src/model/tensorParallel/hostSlice.js';
import { localTextConfig, textShard, validateTensorParallel, weightSlice } from '../../src/model/tensorParallel/shardPlan.js';
import { localTokenIds } from '../../src/model/tensorParallel/shardWeights.js';

const tiny = (o: Partial<TextConfig>): TextConfig => ({
  hiddenSize: 48, intermediateSize: 80, numLayers: 3, numHeads: 4, numKvHeads: 2, headDim: 24,
  rmsNormEps: 1e-5, ropeTheta: 1e9, maxPositionEmbeddings: 4096, vocabSize: 1280, ...o,
});

test('Mistral Small 3.1 over 2, 4 and 8 ranks: every rank a disjoint, covering share', async () => {
  const cfg = (await loadBuiltinConfig(MISTRAL_SMALL_3_1)).text;
  for (const size of [1, 2, 4, 8]) {
    const shards = Array.from({ length: size }, (_, r) => textShard(cfg, size, r));
    for (const key of ['qHeads', 'kvHeads', 'intermediate', 'vocab'] as const) {
      const total = { qHeads: 32, kvHeads: 8, intermediate: 32768, vocab: 131072 }[key];
      shards.forEach((s, r) => assert.deepEqual(s[key], { start: (r * total) / size, count: total / size }, `${key}, rank ${r} of ${size}`));
    }
  }
  const s = textShard(cfg, 4, 3);
  assert.deepEqual(weightSlice('layers.7.attention.wq', cfg, s), { axis: 'rows', start: 24 * 128, count: 8 * 128 });
  assert.deepEqual(weightSlice('layers.7.attention.wk', cfg, s), { axis: 'rows', start: 6 * 128, count: 2 * 128 });
  assert.deepEqual(weightSlice('layers.7.attention.wv', cfg, s), { axis: 'rows', start: 6 * 128, count: 2 * 128 });
  assert.deepEqual(weightSlice('layers.7.attention.wo', cfg, s), { axis: 'columns', start: 24 * 128, count: 8 * 128 });
  assert.deepEqual(weightSlice('layers.7.feed_forward.w1', cfg, s), { axis: 'rows', start: 24576, count: 8192 });
  assert.deepEqual(weightSlice('layers.7.feed_forward.w3', cfg, s), { axis: 'rows', start: 24576, count: 8192 });
  assert.deepEqual(weightSlice('layers.7.feed_forward.w2', cfg, s), { axis: 'columns', start: 24576, count: 8192 });
  assert.deepEqual(weightSlice('tok_embeddings', cfg, s), { axis: 'rows', start: 98304, count: 32768 });
  assert.deepEqual(weightSlice('output', cfg, s), { axis: 'rows', start: 98304, count: 32768 });
  for (const name of ['layers.7.attention_norm', 'layers.7.ffn_norm', 'norm', 'vision.layers.0.attention.wq', 'vision.patch_conv', 'projector.linear_1']) {
    assert.deepEqual(weightSlice(name, cfg, s), { axis: 'replicated' }, name);
  }
  assert.deepEqual(
    localTextConfig(cfg, s),
    { ...cfg, numHeads: 8, numKvHeads: 2, intermediateSize: 8192, vocabSize: 32768 },
  );
});

test('more ranks than KV heads: each KV head replicated on size / numKvHeads ranks, matching its query heads', () => {
  const cfg = tiny({ numHeads: 4, numKvHeads: 2 });
  const shards = [0, 1, 2, 3].map((r) => textShard(cfg, 4, r));
  assert.deepEqual(shards.map((s) => s.kvHeads), [0, 0, 1, 1].map((start) => ({ start, count: 1 })));
  // Query head h reads KV head floor(h / (heads / kvHeads)): rank r's one query head is r.
  shards.forEach((s, r) => assert.equal(Math.floor(s.qHeads.start / 2), s.kvHeads.start, `rank ${r}`));
});

test('sizes that do not divide the model are refused, naming every misfit', () => {
  assert.throws(() => validateTensorParallel(tiny({}), 3), /tensor parallel size 3 is not one of 1, 2, 4, 8/);
  assert.throws(() => validateTensorParallel(tiny({ numHeads: 6, numKvHeads: 1, intermediateSize: 100, vocabSize: 1300 }), 8), /does not divide the model's 6 attention heads, intermediate size 100, vocabulary size 1300$/);
  assert.throws(() => validateTensorParallel(tiny({ numHeads: 12, numKvHeads: 6 }), 4), /6 KV heads \(neither divides the other\)/);
  assert.throws(() => validateTensorParallel(tiny({ intermediateSize: 82 }), 4), /intermediate size 82$/);
  assert.throws(() => validateTensorParallel(tiny({ vocabSize: 1282 }), 4), /vocabulary size 1282$/);
  assert.throws(() => textShard(tiny({}), 2, 2), /rank 2 outside \[0, 2\)/);
  assert.doesNotThrow(() => validateTensorParallel(tiny({}), 2));
});

test('host slices: rows are a byte range, columns a strided copy (bf16 bytes kept as they are)', () => {
  // A 3 x 4 bf16 matrix whose element (r, c) has the bytes [r, c].
  const data = new Uint8Array(24);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) data.set([r, c], 2 * (4 * r + c));
  const t: HostTensor = { name: 'm', dtype: 'bf16', shape: [3, 4], data };
  const rows = sliceHostTensor(t, { axis: 'rows', start: 1, count: 2 });
  assert.deepEqual(rows.shape, [2, 4]);
  assert.deepEqual([...rows.data], [1, 0, 1, 1, 1, 2, 1, 3, 2, 0, 2, 1, 2, 2, 2, 3]);
  const cols = sliceHostTensor(t, { axis: 'columns', start: 2, count: 2 });
  assert.deepEqual(cols.shape, [3, 2]);
  assert.deepEqual([...cols.data], [0, 2, 0, 3, 1, 2, 1, 3, 2, 2, 2, 3]);
  assert.equal(sliceHostTensor(t, { axis: 'replicated' }), t);
  assert.throws(() => sliceHostTensor(t, { axis: 'columns', start: 3, count: 2 }), /m: columns 3..4 outside \[3, 4\]/);
});

test('token ids: inside the rank\'s vocabulary slice shifted to it, outside sent to the zero row', () => {
  const shard = textShard(tiny({}), 2, 1); // vocabulary rows 640..1279
  assert.deepEqual([...localTokenIds(Int32Array.of(0, 639, 640, 1000, 1279), shard)], [640, 640, 0, 360, 639]);
});
