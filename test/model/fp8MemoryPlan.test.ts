// The memory plan counts real weight bytes: Backend.linearBytes for each linear in the format it
// will have (FP8 from the checkpoint or online, else dense), the dense element size for the rest.
// On the CPU the plan equals what the loaded handles and tensors hold; for the 24B model on a
// backend that keeps FP8 as one byte plus a scale per row (the CUDA backend's figures) the
// text linears drop to half while lm_head, embeddings and the vision tower stay bf16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { createCpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { loadBuiltinConfig } from '../../src/model/builtinConfigs.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { freeModelWeights, loadModelWeights } from '../../src/model/deviceWeights.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { parameterCount } from '../../src/model/parameterCount.js';
import { plannedWeightBytes } from '../../src/model/weightBytes.js';
import { writeFp8Checkpoint } from '../helpers/fp8Checkpoint.js';
import { fixture } from '../helpers/paths.js';
import { tempDir } from '../helpers/safetensors.js';

test('on the CPU the planned weight bytes are what the loaded weights hold (bf16, online fp8, an FP8 checkpoint)', async () => {
  const { dir, cleanup } = await tempDir();
  const backend = createCpuBackend({ threads: 1 });
  try {
    const { fp8Dir } = await writeFp8Checkpoint('tiny-b', 'ct-channel', dir);
    for (const [path, quantize] of [[fixture('models', 'tiny-b', 'hf'), undefined], [fixture('models', 'tiny-b', 'hf'), 'fp8'], [fp8Dir, undefined]] as const) {
      const ck = await openCheckpoint(path);
      const planned = plannedWeightBytes(ck.weights, backend, quantize);
      const w = await loadModelWeights(ck.weights, backend, { quantize });
      const owned = w.linears.filter((l) => l.format === 'fp8').reduce((a, l) => a + l.bytes, 0);
      const dense = w.all.reduce((a, t) => a + 4 * t.shape.reduce((x, d) => x * d, 1), 0);
      assert.equal(owned + dense, planned, `${path} ${quantize ?? ''}`);
      assert.equal(planned, 4 * parameterCount(ck.weights.config)); // f32 whatever the format, on the CPU
      freeModelWeights(backend, w);
      await ck.weights.close();
    }
  } finally {
    await backend.close();
    await cleanup();
  }
});

test('Mistral Small 3.1 24B with --quantization fp8 on a backend keeping FP8 as bytes + row scales: text linears halve, the rest stays bf16', async (t) => {
  const cfg = await loadBuiltinConfig('mistral-small-3.1-24b');
  const source = new DummyWeightSource(cfg);
  const cudaLike = {
    activationDType: 'bf16',
    linearBytes: (shape: readonly [number, number], format: 'dense' | 'fp8') => (format === 'fp8' ? shape[0] * shape[1] + 4 * shape[0] : 2 * shape[0] * shape[1]),
  } as unknown as Backend;
  const dense = plannedWeightBytes(source, cudaLike);
  assert.equal(dense, 2 * parameterCount(source.config)); // unchanged from the bf16 plan
  const fp8 = plannedWeightBytes(source, cudaLike, 'fp8');
  const c = cfg.text;
  const perLayer = (rows: number, cols: number) => rows * cols + 4 * rows - 2 * rows * cols;
  const qkvRows = (c.numHeads + 2 * c.numKvHeads) * c.headDim;
  const saved = -c.numLayers * (perLayer(qkvRows, c.hiddenSize) + perLayer(c.hiddenSize, c.numHeads * c.headDim) + perLayer(2 * c.intermediateSize, c.hiddenSize) + perLayer(c.hiddenSize, c.intermediateSize));
  assert.equal(fp8, dense - saved);
  t.diagnostic(`24B weights: bf16 ${(dense / 1e9).toFixed(2)} GB, fp8 text linears ${(fp8 / 1e9).toFixed(2)} GB`);
  assert.ok(fp8 / 1e9 > 25.5 && fp8 / 1e9 < 26, `${fp8 / 1e9} GB`); // 25.8 GB: text linears 22.2 + embeddings and lm_head 2.7 + vision tower and projector 0.9
});
