// One request through the Engine over a real (random-weight) runner: images against [IMG] runs,
// context length, max tokens, stop ids. (What model/generateLoop.ts checked, before the CLI
// moved onto the engine.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { createRunner } from '../../src/model/modelRunner.js';
import type { ModelRunner } from '../../src/model/runner.js';
import { generate } from '../helpers/engineGenerate.js';
import { imageTokens, randomImage, randomWeightSource, tinyConfig } from '../helpers/randomWeights.js';

const cfg = tinyConfig();
let backend: CpuBackend;
let runner: ModelRunner;
before(async () => {
  backend = new CpuBackend({ threads: 1 });
  runner = await createRunner({ weights: randomWeightSource(cfg), backend, maxModelLen: 32, maxNumSeqs: 1, maxNumBatchedTokens: 32 });
});
after(async () => {
  await runner.close();
  await backend.close();
});

test('images must match the [IMG] runs in number and layout', async () => {
  const img = randomImage(24, 16); // 3 x 2 tokens
  const ids = [1, ...imageTokens(3, 2), 5];
  await assert.rejects(generate(runner, cfg, ids, [img, img], { maxTokens: 1 }), /1 image token run\(s\).*2 image\(s\)/);
  await assert.rejects(generate(runner, cfg, [1, 5], [img], { maxTokens: 1 }), /0 image token run\(s\).*1 image\(s\)/);
  await assert.rejects(generate(runner, cfg, [1, ...imageTokens(2, 3), 5], [img], { maxTokens: 1 }), /tokens 0\.\.9 outside its span of 8/); // the runner's own check
  await assert.rejects(generate(runner, cfg, [1, 10, 10, 5], [img], { maxTokens: 1 }), /do not end with \[IMG_END\]/);
});

test('context and max-token limits', async () => {
  await assert.rejects(generate(runner, cfg, new Array(33).fill(5), [], { maxTokens: 1 }), /33 tokens long, more than the maximum context length of 32/);
  await assert.rejects(generate(runner, cfg, [1, 5], [], { maxTokens: 0 }), /maxTokens must be at least 1, got 0/);
  await assert.rejects(generate(runner, cfg, [1, 500], [], { maxTokens: 1 }), /outside the vocabulary/);
  // The context caps the output: 30 prompt tokens leave room for 2.
  const r = await generate(runner, cfg, new Array(30).fill(5), [], { maxTokens: 10, temperature: 0, ignoreEos: true });
  assert.equal(r.tokenIds.length, 2);
  assert.equal(r.finishReason, 'length');
});

test('stops at the first stop id', async () => {
  const free = await generate(runner, cfg, [1, 5, 6], [], { maxTokens: 6, temperature: 0, ignoreEos: true });
  const stopAt = free.tokenIds[2];
  const r = await generate(runner, cfg, [1, 5, 6], [], { maxTokens: 6, temperature: 0, ignoreEos: true, stopTokenIds: [stopAt] });
  assert.deepEqual(r.tokenIds, free.tokenIds.slice(0, free.tokenIds.indexOf(stopAt) + 1));
  assert.equal(r.finishReason, 'stop');
});
