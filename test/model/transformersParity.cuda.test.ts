// The network on the CUDA backend (bf16 weights and activations) against transformers (fp32)
// on the tiny reference models, from both checkpoint layouts: top-1 ids at every position of
// prompt + greedy continuation where the reference's top-1/top-2 gap exceeds the bf16 error,
// logprobs of the reference's top-5 within LOGPROB_MAX each and LOGPROB_MEAN on average
// (./bf16Bound.ts, which states why), and the 16 greedy
// tokens (decoded with the KV cache) equal up to the first position the gap allows a swap.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { generate } from '../../src/model/generateLoop.js';
import { readModelReference } from '../helpers/modelReference.js';
import { fixture } from '../helpers/paths.js';
import { ID_GAP, LOGPROB_MAX, LOGPROB_MEAN } from './bf16Bound.js';

const backend = new CudaBackend({ poisonAllocations: true });
after(() => backend.close());

for (const model of ['tiny-a', 'tiny-b']) {
  const ref = readModelReference(model);
  for (const layout of ['hf', 'mistral'] as const) {
    describe(`${model} from the ${layout} layout on cuda`, () => {
      for (const prompt of ref.prompts) {
        test(prompt.name, async (t) => {
          const ckpt = await openCheckpoint(fixture('models', model, layout));
          const cfg = ckpt.weights.config;
          const runner = await createRunner({ weights: ckpt.weights, backend, maxModelLen: 256, maxNumSeqs: 1, maxNumBatchedTokens: 256 });
          try {
            let maxDiff = 0;
            let worst = '';
            let sumDiff = 0;
            let numDiff = 0;
            const top1Diffs: number[] = [];
            let idsCompared = 0;
            const gapAt = (pos: number) => prompt.topLogprobs[pos][0] - prompt.topLogprobs[pos][1];
            const compare = (pos: number, top: readonly (readonly [number, number])[]) => {
              if (gapAt(pos) > ID_GAP) {
                assert.equal(top[0][0], prompt.topIds[pos][0], `top-1 id at position ${pos} (reference gap ${gapAt(pos).toFixed(3)})`);
                idsCompared++;
              }
              const ours = new Map(top.map(([id, lp]) => [id, lp]));
              prompt.topIds[pos].forEach((id, j) => {
                const lp = ours.get(id);
                if (lp === undefined) return;
                const diff = Math.abs(lp - prompt.topLogprobs[pos][j]);
                if (diff > maxDiff) worst = `position ${pos}, rank ${j + 1}: ${lp.toFixed(3)} vs ${prompt.topLogprobs[pos][j].toFixed(3)}`;
                maxDiff = Math.max(maxDiff, diff);
                sumDiff += diff;
                numDiff++;
                if (j === 0) top1Diffs.push(diff);
              });
            };
            const gen = await generate(runner, cfg, prompt.tokenIds, prompt.images, { maxTokens: 16, temperature: 0, logprobs: ref.topK, ignoreEos: true });
            const p0 = prompt.tokenIds.length - 1;
            let same = 0;
            while (same < 16 && gapAt(p0 + same) > ID_GAP) {
              assert.equal(gen.tokenIds[same], prompt.greedy[same], `greedy token ${same}`);
              same++;
            }
            // Past a near-tie the continuation may differ; its logprobs are compared while it agrees.
            let agree = 0;
            while (agree < 16 && gen.tokenIds[agree] === prompt.greedy[agree]) agree++;
            gen.logprobs?.slice(0, agree + 1).forEach((lp, i) => {
              if (i < 16) compare(p0 + i, lp.top);
            });
            const once = await generate(runner, cfg, prompt.sequence, prompt.images, { maxTokens: 1, temperature: 0, logprobs: ref.topK, promptLogprobs: ref.topK, ignoreEos: true });
            once.promptLogprobs?.forEach((lp, i) => {
              if (i > 0) compare(i - 1, lp?.top ?? []);
            });
            compare(prompt.sequence.length - 1, once.logprobs?.[0].top ?? []);
            const mean = sumDiff / Math.max(1, numDiff);
            t.diagnostic(`|logprob - transformers fp32| over ${numDiff} top-5 entries: max ${maxDiff.toFixed(3)} (${worst}), mean ${mean.toFixed(4)}, top-1 max ${Math.max(...top1Diffs).toFixed(3)}; greedy tokens equal ${agree}/16 (${same} required by the gaps); top-1 ids compared at ${idsCompared} positions`);
            assert.ok(maxDiff < LOGPROB_MAX, `max logprob difference ${maxDiff} (${worst})`);
            assert.ok(mean < LOGPROB_MEAN, `mean logprob difference ${mean}`);
            assert.ok(idsCompared >= prompt.sequence.length / 2, `only ${idsCompared} positions had a gap above ${ID_GAP}`);
          } finally {
            await runner.close();
            await ckpt.weights.close();
          }
        });
      }
    });
  }
}
