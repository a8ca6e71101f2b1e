// Cache consistency (mistral-inference's test): generating with the KV cache gives the same
// logprobs as one prefill over prompt + output; chunked prefill and batching change nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { generate } from '../../src/model/generateLoop.js';
import type { ModelRunner } from '../../src/model/runner.js';
import { imageTokens, randomImage, randomWeightSource, tinyConfig } from '../helpers/randomWeights.js';

const cfg = tinyConfig();
let backend: CpuBackend;
let runner: ModelRunner;
let chunked: ModelRunner;

before(async () => {
  backend = new CpuBackend({ threads: 2 });
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

test('decode with the KV cache == one prefill over prompt + output (text and image)', async () => {
  for (const [ids, imgs] of [[[1, 5, 200, 17, 42, 42, 9], []], [prompt, [image]]] as const) {
    const gen = await generate(runner, cfg, ids, imgs, { maxTokens: 12, temperature: 0, logprobs: 2, ignoreEos: true });
    assert.equal(gen.tokenIds.length, 12);
    const full = [...ids, ...gen.tokenIds];
    const once = await generate(runner, cfg, full, imgs, { maxTokens: 1, temperature: 0, promptLogprobs: 2, ignoreEos: true });
    const scored = once.promptLogprobs?.slice(ids.length) ?? [];
    assert.equal(scored.length, 12);
    let maxDiff = 0;
    gen.logprobs?.forEach((lp, i) => {
      const other = scored[i];
      assert.ok(other);
      assert.equal(other.rank, lp.rank, `token ${i}`);
      assert.deepEqual(other.top.map((t) => t[0]), lp.top.map((t) => t[0]));
      maxDiff = Math.max(maxDiff, Math.abs(other.logprob - lp.logprob));
    });
    assert.ok(maxDiff < 1e-4, `max logprob difference ${maxDiff}`);
  }
});

test('chunked prefill (chunks of 7 tokens splitting the image span) matches one prefill', async () => {
  const a = await generate(runner, cfg, prompt, [image], { maxTokens: 6, temperature: 0, logprobs: 3, promptLogprobs: 1, ignoreEos: true });
  const b = await generate(chunked, cfg, prompt, [image], { maxTokens: 6, temperature: 0, logprobs: 3, promptLogprobs: 1, ignoreEos: true });
  assert.deepEqual(b.tokenIds, a.tokenIds);
  assert.equal(b.promptLogprobs?.length, prompt.length);
  a.promptLogprobs?.forEach((lp, i) => {
    const o = b.promptLogprobs?.[i];
    if (lp === null) return assert.equal(o, null);
    assert.ok(o && Math.abs(o.logprob - lp.logprob) < 1e-4, `prompt position ${i}`);
  });
  a.logprobs?.forEach((lp, i) => assert.ok(Math.abs((b.logprobs?.[i].logprob ?? 0) - lp.logprob) < 1e-4));
});

test('two sequences in one batch give what each gives alone', async () => {
  const seqA = [1, 7, 8, 9, 10 + 20];
  const seqB = [1, 99, 98];
  const params = (ids: number[]) => ({
    temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0, presencePenalty: 0, frequencyPenalty: 0, repetitionPenalty: 1,
    promptTokenIds: ids, outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 4,
  });
  const alone = await generate(runner, cfg, seqB, [], { maxTokens: 1, temperature: 0, logprobs: 4 });
  const aloneA = await generate(runner, cfg, seqA, [], { maxTokens: 1, temperature: 0, logprobs: 4 });
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
  assert.equal(res.sampled[0]?.tokenId, aloneA.tokenIds[0]);
  assert.equal(res.sampled[1]?.tokenId, alone.tokenIds[0]);
  assert.ok(Math.abs((res.sampled[1]?.logprobs?.logprob ?? 0) - (alone.logprobs?.[0].logprob ?? 1)) < 1e-5);
});
