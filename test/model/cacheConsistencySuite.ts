// Cache consistency (mistral-inference's test), parametrised by backend: generating with the
// KV cache gives the logprobs of one prefill over prompt + output, chunked prefill (chunks of 7
// tokens splitting the image span) gives those of one prefill, and a batch of two sequences
// gives what each gives alone. cacheConsistency.test.ts runs it on the CPU backend (f32: the
// paths agree on ranks and tokens, logprobs within 1e-4), cacheConsistency.cuda.test.ts on CUDA
// (bf16: only logprobs, within SAME_BACKEND_BOUND of ./bf16Bound.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { generate } from '../helpers/engineGenerate.js';
import type { ModelRunner } from '../../src/model/runner.js';
import { imageTokens, randomImage, randomWeightSource, tinyConfig } from '../helpers/randomWeights.js';

export interface CacheConsistencyBounds {
  /** Max |logprob| difference between two paths computing the same thing. */
  readonly logprob: number;
  /** Max |logprob| difference of the top token between a batch of two and each alone. */
  readonly batchLogprob: number;
  /** The paths must also agree on ranks, top ids and every greedy token (f32 backends). Else
   *  (bf16) the chunked comparison scores the prompt only, and a batched token must equal its
   *  alone token where the top-1/top-2 gap exceeds 2 x logprob. */
  readonly sameRanking: boolean;
}

export function runCacheConsistencySuite(label: string, factory: () => Backend | Promise<Backend>, bounds: CacheConsistencyBounds): void {
  describe(`cache consistency: ${label}`, () => {
    const cfg = tinyConfig();
    let backend: Backend;
    let runner: ModelRunner;
    let chunked: ModelRunner;

    before(async () => {
      backend = await factory();
      runner = await createRunner({ weights: randomWeightSource(cfg), backend, maxModelLen: 128, maxNumSeqs: 4, maxNumBatchedTokens: 128 });
      chunked = await createRunner({ weights: randomWeightSource(cfg), backend, maxModelLen: 128, maxNumSeqs: 4, maxNumBatchedTokens: 7 });
    });
    after(async () => {
      await runner.close();
      await chunked.close();
      await backend.close();
    });

    const image = randomImage(24, 16); // 3 x 2 merged tokens with patch 4, merge 2
    const prompt = [1, 55, 66, ...imageTokens(3, 2), 77, 88, 99, 101, 102];

    test('decode with the KV cache == one prefill over prompt + output (text and image)', async (t) => {
      for (const [ids, imgs] of [[[1, 5, 200, 17, 42, 42, 9], []], [prompt, [image]]] as const) {
        const gen = await generate(runner, cfg, ids, imgs, { maxTokens: 12, temperature: 0, logprobs: 2, ignoreEos: true });
        assert.equal(gen.tokenIds.length, 12);
        const once = await generate(runner, cfg, [...ids, ...gen.tokenIds], imgs, { maxTokens: 1, temperature: 0, promptLogprobs: 2, ignoreEos: true });
        const scored = once.promptLogprobs?.slice(ids.length) ?? [];
        assert.equal(scored.length, 12);
        let maxDiff = 0;
        gen.logprobs?.forEach((lp, i) => {
          const other = scored[i];
          assert.ok(other, `token ${i} scored`);
          if (bounds.sameRanking) {
            assert.equal(other.rank, lp.rank, `token ${i}`);
            assert.deepEqual(other.top.map((e) => e[0]), lp.top.map((e) => e[0]));
          }
          maxDiff = Math.max(maxDiff, Math.abs(other.logprob - lp.logprob));
        });
        t.diagnostic(`${imgs.length} image(s): max |decode - prefill| logprob ${maxDiff.toExponential(2)}`);
        assert.ok(maxDiff < bounds.logprob, `max logprob difference ${maxDiff}`);
      }
    });

    test('chunked prefill (chunks of 7 tokens splitting the image span) matches one prefill', async (t) => {
      const opts = { maxTokens: bounds.sameRanking ? 6 : 1, temperature: 0, logprobs: 3, promptLogprobs: 1, ignoreEos: true };
      const a = await generate(runner, cfg, prompt, [image], opts);
      const b = await generate(chunked, cfg, prompt, [image], opts);
      assert.equal(b.promptLogprobs?.length, prompt.length);
      let maxDiff = 0;
      a.promptLogprobs?.forEach((lp, i) => {
        const o = b.promptLogprobs?.[i];
        if (lp === null) return assert.equal(o, null);
        assert.ok(o, `prompt position ${i}`);
        maxDiff = Math.max(maxDiff, Math.abs(o.logprob - lp.logprob));
      });
      t.diagnostic(`max |chunked - whole| prompt logprob ${maxDiff.toExponential(2)}`);
      assert.ok(maxDiff < bounds.logprob, `max prompt logprob difference ${maxDiff}`);
      if (bounds.sameRanking) {
        assert.deepEqual(b.tokenIds, a.tokenIds);
        a.logprobs?.forEach((lp, i) => assert.ok(Math.abs((b.logprobs?.[i].logprob ?? 0) - lp.logprob) < bounds.logprob, `output token ${i}`));
      }
    });

    test('two sequences in one batch give what each gives alone', async () => {
      const seqA = [1, 7, 8, 9, 30];
      const seqB = [1, 99, 98];
      const params = (ids: number[]) => ({
        temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0, presencePenalty: 0, frequencyPenalty: 0, repetitionPenalty: 1,
        promptTokenIds: ids, outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 4,
      });
      const aloneA = await generate(runner, cfg, seqA, [], { maxTokens: 1, temperature: 0, logprobs: 4 });
      const aloneB = await generate(runner, cfg, seqB, [], { maxTokens: 1, temperature: 0, logprobs: 4 });
      // Sequence A in blocks 0..7, sequence B in blocks 8..15.
      const res = await runner.execute(
        {
          tokenIds: Int32Array.from([...seqA, ...seqB]),
          positions: Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]),
          queryLens: Int32Array.of(5, 3),
          contextLens: Int32Array.of(5, 3),
          slotMapping: Int32Array.from([0, 1, 2, 3, 4, 128, 129, 130]),
          blockTables: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
          maxBlocksPerSeq: 8,
          images: [],
          sampleMask: Uint8Array.of(1, 1),
        },
        [params(seqA), params(seqB)],
      );
      for (const [got, alone] of [[res.sampled[0], aloneA], [res.sampled[1], aloneB]] as const) {
        const ref = alone.logprobs?.[0];
        assert.ok(got && ref);
        const gap = ref.top[0][1] - ref.top[1][1];
        if (bounds.sameRanking || gap > 2 * bounds.logprob) assert.equal(got.tokenId, alone.tokenIds[0]);
        assert.ok(Math.abs((got.logprobs?.top[0][1] ?? 0) - ref.top[0][1]) < bounds.batchLogprob);
      }
    });
  });
}
