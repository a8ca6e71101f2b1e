// The parameter count from the config equals the elements the checkpoint actually holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { parameterCount } from '../../src/model/parameterCount.js';
import type { ModelConfig } from '../../src/model/config.js';
import { fixture } from '../helpers/paths.js';

test('parameterCount matches the tensors of the reference checkpoints', async () => {
  for (const model of ['tiny-a', 'tiny-b']) {
    const ck = await openCheckpoint(fixture('models', model, 'hf'));
    let total = 0;
    for (const name of ck.weights.names()) total += (await ck.weights.get(name)).shape.reduce((a, b) => a * b, 1);
    assert.equal(parameterCount(ck.weights.config), total, model);
    await ck.weights.close();
  }
});

test('Mistral Small 3.1 has about 24.0B parameters (docs/model.md#dimensions)', () => {
  const cfg: ModelConfig = {
    text: { hiddenSize: 5120, intermediateSize: 32768, numLayers: 40, numHeads: 32, numKvHeads: 8, headDim: 128, rmsNormEps: 1e-5, ropeTheta: 1e9, maxPositionEmbeddings: 131072, vocabSize: 131072 },
    vision: { hiddenSize: 1024, intermediateSize: 4096, numLayers: 24, numHeads: 16, headDim: 64, patchSize: 14, imageSize: 1540, numChannels: 3, ropeTheta: 1e4, rmsNormEps: 1e-5, hiddenAct: 'silu' },
    projector: { spatialMergeSize: 2, hasPreNorm: true, hiddenAct: 'gelu' },
    imageTokenId: 10, imageBreakTokenId: 12, imageEndTokenId: 13, dtype: 'bf16', format: 'hf',
  };
  const n = parameterCount(cfg);
  assert.ok(Math.abs(n / 1e9 - 24.0) < 0.05, `${n}`);
});
