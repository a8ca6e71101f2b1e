// The checkpoints the repo ships (reference fixtures and the CLI's embedded default) open,
// and each tokenizer agrees with its model: one embedding row per token id, same image geometry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { fixture, repoRoot } from '../helpers/paths.js';

interface TekkenHead {
  config: { default_vocab_size: number; default_num_special_tokens: number; num_vocab_tokens: number; version: string };
  vocab: unknown[];
  special_tokens: { rank: number; token_str: string }[];
  image: { image_patch_size: number; max_image_size: number; spatial_merge_size: number };
}

const shipped = [
  { name: 'assets/tiny-default', dir: join(repoRoot, 'assets', 'tiny-default'), layout: 'hf' },
  { name: 'tiny-a (mistral)', dir: fixture('models', 'tiny-a', 'mistral'), layout: 'mistral' },
  { name: 'tiny-b (mistral)', dir: fixture('models', 'tiny-b', 'mistral'), layout: 'mistral' },
];

for (const s of shipped) {
  test(`${s.name}: opens, and its tekken.json matches the model`, async () => {
    const ck = await openCheckpoint(s.dir);
    try {
      assert.equal(ck.layout, s.layout);
      assert.ok(ck.tokenizerPath, 'tekken.json ships with the model');
      const cfg = ck.weights.config;
      const tk = JSON.parse(readFileSync(ck.tokenizerPath, 'utf8')) as TekkenHead;
      assert.equal(tk.config.version, 'v7');
      assert.equal(tk.config.default_vocab_size, cfg.text.vocabSize);
      assert.equal(tk.vocab.length, cfg.text.vocabSize - tk.config.default_num_special_tokens);
      assert.equal(tk.special_tokens.length, tk.config.default_num_special_tokens);
      assert.deepEqual([10, 12, 13].map((id) => tk.special_tokens[id].token_str), ['[IMG]', '[IMG_BREAK]', '[IMG_END]']);
      assert.deepEqual([cfg.imageTokenId, cfg.imageBreakTokenId, cfg.imageEndTokenId], [10, 12, 13]);
      assert.ok(cfg.vision && cfg.projector);
      assert.equal(tk.image.image_patch_size, cfg.vision.patchSize);
      assert.equal(tk.image.max_image_size, cfg.vision.imageSize);
      assert.equal(tk.image.spatial_merge_size, cfg.projector.spatialMergeSize);
      assert.equal(cfg.vision.hiddenAct, 'silu');
      const emb = await ck.weights.get('tok_embeddings');
      assert.deepEqual(emb.shape, [cfg.text.vocabSize, cfg.text.hiddenSize]);
    } finally {
      await ck.weights.close();
    }
  });
}
