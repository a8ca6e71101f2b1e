// The model in a worker thread keeps the event loop free while a step computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LLM } from '../../src/engine/llm.js';
import { startRunnerThread } from '../../src/engine/runnerThread.js';
import { EMBEDDED_MODEL_DIR } from '../../src/model/modelSource.js';

test('a long prefill step in the runner thread does not block the event loop', async () => {
  const llm = await LLM.create({ maxModelLen: 2048, maxNumBatchedTokens: 2048, maxNumSeqs: 2, runnerThread: true });
  try {
    const ids = Array.from({ length: 1800 }, (_, i) => 1000 + ((i * 7) % 3000));
    // The longest gap between ticks of a 2 ms interval timer while the request runs.
    let last = performance.now();
    let maxDelayMs = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      maxDelayMs = Math.max(maxDelayMs, now - last);
      last = now;
    }, 2);
    const t0 = performance.now();
    const [out] = await llm.generate({ promptTokenIds: ids }, { temperature: 0, maxTokens: 2, ignoreEos: true });
    const elapsed = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20)); // let the timer see a gap that ended with the request
    clearInterval(tick);
    assert.equal(out.outputs[0].tokenIds.length, 2);
    assert.ok(maxDelayMs < Math.max(50, elapsed / 4), `event loop blocked ${maxDelayMs.toFixed(1)} ms of a ${elapsed.toFixed(0)} ms request`);
  } finally {
    await llm.close();
  }
});

test('errors inside the thread come back as rejections; a closed runner refuses work', async () => {
  const runner = await startRunnerThread({
    model: EMBEDDED_MODEL_DIR,
    loadFormat: 'auto',
    device: 'cpu',
    threads: 1,
    maxModelLen: 64,
    maxNumSeqs: 2,
    maxNumBatchedTokens: 64,
    kvCacheTokens: 256,
    gpuMemoryUtilization: 0.9,
  });
  assert.equal(runner.kvCache.blockSize, 16);
  assert.equal(runner.limits.maxModelLen, 64);
  const empty = {
    tokenIds: new Int32Array(0),
    positions: new Int32Array(0),
    queryLens: new Int32Array(0),
    contextLens: new Int32Array(0),
    slotMapping: new Int32Array(0),
    blockTables: new Int32Array(0),
    maxBlocksPerSeq: 0,
    images: [],
    sampleMask: new Uint8Array(0),
  };
  await assert.rejects(runner.execute(empty, []), /invalid ForwardBatch: no tokens/);
  await runner.close();
  await assert.rejects(runner.execute(empty, []), /closed/);
  await assert.rejects(
    startRunnerThread({ model: '/nonexistent', loadFormat: 'auto', device: 'cpu', maxModelLen: 64, maxNumSeqs: 1, maxNumBatchedTokens: 64, gpuMemoryUtilization: 0.9 }),
    /\/nonexistent does not exist/,
  );
});
