// The network against transformers (fp32) on the tiny reference models, from both checkpoint
// layouts: top-5 ids equal at every position of prompt + greedy continuation, logprobs within
// 1e-3, and 16 greedy tokens (decoded with the KV cache) identical. Text only, one image, two.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { generate } from '../../src/model/generateLoop.js';
import { fixture } from '../helpers/paths.js';
import { readModelReference } from '../helpers/modelReference.js';

const TOLERANCE = 1e-3;
const backend = new CpuBackend({ threads: 2 });
after(() => backend.close());

for (const model of ['tiny-a', 'tiny-b']) {
  const ref = readModelReference(model);
  for (const layout of ['hf', 'mistral'] as const) {
    describe(`${model} from the ${layout} layout`, () => {
      for (const prompt of ref.prompts) {
        test(prompt.name, async (t) => {
          const ckpt = await openCheckpoint(fixture('models', model, layout));
          const cfg = ckpt.weights.config;
          const runner = await createRunner({ weights: ckpt.weights, backend, maxModelLen: 256, maxNumSeqs: 1, maxNumBatchedTokens: 256 });
          try {
            let maxDiff = 0;
            const compare = (pos: number, top: readonly (readonly [number, number])[]) => {
              assert.deepEqual(top.map((e) => e[0]), prompt.topIds[pos], `top ids at position ${pos}`);
              top.forEach(([, lp], j) => (maxDiff = Math.max(maxDiff, Math.abs(lp - prompt.topLogprobs[pos][j]))));
            };
            // Decode with the KV cache: the greedy continuation and its logprobs.
            const gen = await generate(runner, cfg, prompt.tokenIds, prompt.images, { maxTokens: 16, temperature: 0, logprobs: ref.topK, ignoreEos: true });
            assert.deepEqual(gen.tokenIds, prompt.greedy);
            gen.logprobs?.forEach((lp, i) => compare(prompt.tokenIds.length - 1 + i, lp.top));
            // One prefill over prompt + continuation: every position's top-k.
            const once = await generate(runner, cfg, prompt.sequence, prompt.images, { maxTokens: 1, temperature: 0, logprobs: ref.topK, promptLogprobs: ref.topK, ignoreEos: true });
            once.promptLogprobs?.forEach((lp, i) => {
              if (i > 0) compare(i - 1, lp?.top ?? []);
            });
            compare(prompt.sequence.length - 1, once.logprobs?.[0].top ?? []);
            t.diagnostic(`max |logprob - transformers| = ${maxDiff.toExponential(2)}`);
            assert.ok(maxDiff < TOLERANCE, `max logprob difference ${maxDiff}`);
          } finally {
            await runner.close();
            await ckpt.weights.close();
          }
        });
      }
    });
  }
}
