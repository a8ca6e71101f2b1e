// The composition root and the runner's memory plan on the CPU backend: dummy weights through
// openRunner (device, backend, loadModelRunner), the up-front refusal of weights that do not fit (before any is generated),
// the KV cache sized from the memory-utilization fraction, and device names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { createDeviceBackend, defaultDevice, DEVICES } from '../../src/backend/deviceBackend.js';
import { loadBuiltinConfig, MISTRAL_SMALL_3_1 } from '../../src/model/builtinConfigs.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { generate } from '../helpers/engineGenerate.js';
import { openRunner, runnerSizes } from '../../src/engine/composition.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { tinyConfig } from '../helpers/randomWeights.js';

test('openRunner: dummy weights for the embedded model config on the cpu, greedy tokens reproducible', async () => {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const m = await openRunner({ loadFormat: 'dummy', device: 'cpu', threads: 1, maxModelLen: 64 });
    try {
      assert.equal(m.backend.name, 'cpu');
      assert.equal(m.maxModelLen, 64);
      runs.push((await generate(m.runner, m.source.config, [1, 1100, 1200], [], { maxTokens: 4, temperature: 0, ignoreEos: true })).tokenIds);
    } finally {
      await m.close();
    }
  }
  assert.equal(runs[0].length, 4);
  assert.deepEqual(runs[0], runs[1]);
});

test('weights that do not fit are refused up front, naming needed and free memory', async () => {
  const backend = new CpuBackend({ threads: 1 });
  try {
    const weights = new DummyWeightSource(await loadBuiltinConfig(MISTRAL_SMALL_3_1));
    // Nothing is generated: get() is never called (it would take minutes for 24B weights).
    const guarded = { config: weights.config, names: () => weights.names(), has: (n: string) => weights.has(n), get: () => Promise.reject(new Error('get() called')), close: async () => {} };
    await assert.rejects(
      createRunner({ weights: guarded, backend, maxModelLen: 64, maxNumSeqs: 1, maxNumBatchedTokens: 64 }),
      /the model's weights need 89\.4 GiB, [\d.]+ GiB free on the cpu backend/,
    );
  } finally {
    await backend.close();
  }
});

test('the KV cache comes from the memory-utilization fraction of the total, after weights and workspace', async () => {
  const backend = new CpuBackend({ threads: 1 });
  try {
    const cfg = tinyConfig();
    const weights = new DummyWeightSource(cfg);
    const full = await createRunner({ weights, backend, maxModelLen: 256, maxNumSeqs: 2, maxNumBatchedTokens: 32 });
    assert.equal(full.kvCache.numBlocks, 2 * (256 / 16), 'capped at maxNumSeqs sequences of maxModelLen');
    await full.close();
    const { totalBytes, freeBytes } = backend.memoryInfo();
    const used = totalBytes - freeBytes;
    // A fraction just under what is already in use leaves nothing for the cache.
    await assert.rejects(
      createRunner({ weights, backend, maxModelLen: 256, maxNumSeqs: 1, maxNumBatchedTokens: 32, kvCacheMemoryFraction: used / totalBytes / 2 }),
      /KV cache of 0 blocks .* cannot hold one sequence of maxModelLen 256/,
    );
  } finally {
    await backend.close();
  }
});

test('device names: the default is one of the devices; an unknown one is a clear error', async () => {
  assert.ok((DEVICES as readonly string[]).includes(await defaultDevice()));
  await assert.rejects(createDeviceBackend('tpu'), /unknown device 'tpu' \(expected one of: cpu, cuda\)/);
});

test('runnerSizes: host memory caps the default context and sizes the KV cache in whole blocks; a device uses its memory', () => {
  const host = { hostMemory: true, blocksCallingThread: true };
  const gpu = { hostMemory: false, blocksCallingThread: false };
  assert.deepEqual(runnerSizes(131072, host, {}, 1), { maxModelLen: 8192, maxNumSeqs: 1, maxNumBatchedTokens: 2048, kvCacheTokens: 8192 });
  assert.deepEqual(runnerSizes(131072, host, { maxModelLen: 100 }, 4), { maxModelLen: 100, maxNumSeqs: 4, maxNumBatchedTokens: 2048, kvCacheTokens: 4 * 112 });
  assert.equal(runnerSizes(131072, host, { maxModelLen: 8192 }, 256).kvCacheTokens, 1 << 17);
  assert.equal(runnerSizes(131072, host, { kvCacheTokens: 64 }, 1).kvCacheTokens, 64);
  assert.deepEqual(runnerSizes(131072, gpu, {}, 256), { maxModelLen: 131072, maxNumSeqs: 256, maxNumBatchedTokens: 2048, kvCacheTokens: undefined });
  assert.throws(() => runnerSizes(64, gpu, { maxModelLen: 65 }, 1), /maxModelLen 65 is more than the model's 64 positions/);
  assert.throws(() => runnerSizes(64, gpu, { maxNumSeqs: 0 }, 1), /maxNumSeqs must be a positive integer, got 0/);
});
