// The network against transformers (fp32) on the tiny reference models, from both checkpoint
// layouts, text only, one image and two, parametrised by backend: 16 greedy tokens decoded
// with the KV cache, then one prefill over prompt + continuation, every position's top-k
// compared with the reference's. transformersParity.test.ts runs it on the CPU backend (f32:
// every top-k id equal, every greedy token equal, logprobs within 1e-3),
// transformersParity.cuda.test.ts on CUDA (bf16: the bounds of ./bf16Bound.ts, which say why).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { generate } from '../helpers/engineGenerate.js';
import { fixture } from '../helpers/paths.js';
import { readModelReference } from '../helpers/modelReference.js';

export interface ParityBounds {
  /** Every compared logprob (the reference's top-k) within this of transformers'. */
  readonly logprobMax: number;
  /** Their mean within this (not checked when absent). */
  readonly logprobMean?: number;
  /** 'all': our top-k ids equal the reference's at every position, and all 16 greedy tokens.
   *  A number g: the top-1 id only where the reference's top-1/top-2 gap exceeds g (at least
   *  half the positions must), greedy tokens up to the first gap below g, and the
   *  continuation's logprobs compared while it agrees with the reference's. */
  readonly ids: 'all' | number;
}

export function runParitySuite(label: string, factory: () => Backend | Promise<Backend>, bounds: ParityBounds): void {
  let backend: Backend;
  before(async () => {
    backend = await factory();
  });
  after(() => backend.close());
  const idGap = bounds.ids === 'all' ? -Infinity : bounds.ids;

  for (const model of ['tiny-a', 'tiny-b']) {
    const ref = readModelReference(model);
    for (const layout of ['hf', 'mistral'] as const) {
      describe(`${model} from the ${layout} layout on ${label}`, () => {
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
                if (bounds.ids === 'all') assert.deepEqual(top.map((e) => e[0]), prompt.topIds[pos], `top ids at position ${pos}`);
                if (gapAt(pos) > idGap) {
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
              // Decode with the KV cache: the greedy continuation and its logprobs.
              const gen = await generate(runner, cfg, prompt.tokenIds, prompt.images, { maxTokens: 16, temperature: 0, logprobs: ref.topK, ignoreEos: true });
              const p0 = prompt.tokenIds.length - 1;
              let same = 0;
              while (same < 16 && gapAt(p0 + same) > idGap) {
                assert.equal(gen.tokenIds[same], prompt.greedy[same], `greedy token ${same}`);
                same++;
              }
              // Past a near-tie the continuation may differ; its logprobs are compared while it agrees.
              let agree = 0;
              while (agree < 16 && gen.tokenIds[agree] === prompt.greedy[agree]) agree++;
              gen.logprobs?.slice(0, agree + 1).forEach((lp, i) => {
                if (i < 16) compare(p0 + i, lp.top);
              });
              // One prefill over prompt + continuation: every position's top-k.
              const once = await generate(runner, cfg, prompt.sequence, prompt.images, { maxTokens: 1, temperature: 0, logprobs: ref.topK, promptLogprobs: ref.topK, ignoreEos: true });
              once.promptLogprobs?.forEach((lp, i) => {
                if (i > 0) compare(i - 1, lp?.top ?? []);
              });
              compare(prompt.sequence.length - 1, once.logprobs?.[0].top ?? []);
              const mean = sumDiff / Math.max(1, numDiff);
              t.diagnostic(`|logprob - transformers fp32| over ${numDiff} top-k entries: max ${maxDiff.toExponential(2)} (${worst}), mean ${mean.toExponential(2)}, top-1 max ${Math.max(...top1Diffs).toExponential(2)}; greedy tokens equal ${agree}/16 (${same} required); top-1 ids compared at ${idsCompared} positions`);
              assert.ok(maxDiff < bounds.logprobMax, `max logprob difference ${maxDiff} (${worst})`);
              if (bounds.logprobMean !== undefined) assert.ok(mean < bounds.logprobMean, `mean logprob difference ${mean}`);
              assert.ok(idsCompared >= prompt.sequence.length / 2, `only ${idsCompared} positions had a gap above ${idGap}`);
            } finally {
              await runner.close();
              await ckpt.weights.close();
            }
          });
        }
      });
    }
  }
}
