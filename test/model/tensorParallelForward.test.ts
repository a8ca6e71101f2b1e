// The text decoder split over N simulated ranks (N CpuBackends in one process, in-process
// collectives) against the ordinary forward on one CpuBackend, f32, on the tiny reference
// checkpoints: the prompt prefilled in one step, then 4 greedy decode steps through the KV
// cache (the fused-wqkv path), every row's logits compared.
//   N = 1: bit-identical (the sharded code runs the same ops in the same order).
//   N > 1: wo and w2 become partial sums added in rank order, a different f32 summation order
//   than one dot product over the whole row, so logits move by rounding only: the greedy
//   tokens and each row's top-5 ids are equal, and every logit within LOGIT_BOUND (see below).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { createInProcessCollectives } from '../../src/backend/cpu/inProcessCollectives.js';
import type { Collective } from '../../src/backend/collectives.js';
import { f32 } from '../../src/backend/cpu/cpuTensor.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { ShardedTextModel } from '../../src/model/tensorParallel/shardedTextModel.js';
import { validateTensorParallel } from '../../src/model/tensorParallel/shardPlan.js';
import { fixture } from '../helpers/paths.js';
import { readModelReference } from '../helpers/modelReference.js';
import { sequenceStep, UnshardedText } from '../helpers/unshardedText.js';

const MAX_TOKENS = 64;
const BLOCKS = 4; // 64 tokens of KV cache
const DECODE_STEPS = 4;
/** Largest |logit difference| / max |logit| of the row allowed for N > 1. A reordered f32 sum of
 *  k products differs from the unsharded one by at most 2·γₖ·Σ|xᵢwᵢ|, γₖ ≈ k·2⁻²⁴ (both orders
 *  are within γₖ of the exact sum; test/backend/inProcessCollectives.test.ts checks this bound
 *  for a row-parallel linear), that is below 1e-5 of Σ|xᵢwᵢ| for the k ≤ 100 of these models
 *  (wo: k = heads*hd = 96, w2: k = 100). Norms and attention pass such relative errors on with
 *  gains of order one, so the logits keep to the same 1e-5 (measured: about 4e-7). A real error
 *  (a rank's partial sum lost, vocabulary columns misplaced) moves logits by far more: the last
 *  tests below run those two bugs and see this comparison fail. */
const LOGIT_BOUND = 1e-5;

const argmax = (row: Float32Array): number => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
const top5 = (row: Float32Array): number[] => [...row.keys()].sort((a, b) => row[b] - row[a] || a - b).slice(0, 5);

interface Compared {
  maxRelative: number;
  rows: number;
}

async function compareForward(model: string, size: number, layout: 'hf' | 'mistral' = 'hf', collectives = createInProcessCollectives): Promise<Compared> {
  const ref = readModelReference(model);
  const prompt = ref.prompts.find((p) => p.images.length === 0 && p.tokenIds.length > 12) ?? ref.prompts[0];
  const ckpt = await openCheckpoint(fixture('models', model, layout));
  const backends = Array.from({ length: size + 1 }, () => new CpuBackend({ threads: 1 }));
  const single = backends[size];
  const unsharded = await UnshardedText.create(ckpt.weights, single, MAX_TOKENS, BLOCKS);
  const sharded = await ShardedTextModel.create({
    source: ckpt.weights,
    backends: backends.slice(0, size),
    collectives: collectives(size),
    maxTokens: MAX_TOKENS,
    maxSeqs: 1,
    maxBlocksPerSeq: BLOCKS,
    numBlocks: BLOCKS,
  });
  const vocab = ckpt.weights.config.text.vocabSize;
  const result: Compared = { maxRelative: 0, rows: 0 };
  try {
    let tokens = prompt.tokenIds;
    let start = 0;
    for (let s = 0; s <= DECODE_STEPS; s++) {
      const step = sequenceStep(tokens, start, BLOCKS);
      const want = await unsharded.forward(step);
      const got = await sharded.forward(step);
      assert.equal(got.length, want.length);
      for (let r = 0; r < tokens.length; r++) {
        const w = want.subarray(r * vocab, (r + 1) * vocab);
        const g = got.subarray(r * vocab, (r + 1) * vocab);
        if (size === 1) {
          assert.ok(g.every((v, i) => Object.is(v, w[i]) || v === w[i]), `N=1 step ${s} row ${r}: logits differ`);
        }
        let scale = 0;
        let diff = 0;
        for (let i = 0; i < vocab; i++) {
          scale = Math.max(scale, Math.abs(w[i]));
          diff = Math.max(diff, Math.abs(g[i] - w[i]));
        }
        result.maxRelative = Math.max(result.maxRelative, diff / scale);
        assert.ok(diff <= LOGIT_BOUND * scale, `N=${size} step ${s} row ${r}: logits differ by ${diff} (row scale ${scale})`);
        assert.deepEqual(top5(g), top5(w), `N=${size} step ${s} row ${r}: top-5 ids`);
        result.rows++;
      }
      start += tokens.length;
      tokens = [argmax(got.subarray((tokens.length - 1) * vocab))];
    }
    return result;
  } finally {
    sharded.free();
    unsharded.free();
    await ckpt.weights.close();
    await Promise.all(backends.map((b) => b.close()));
  }
}

describe('tensor-parallel text decoder on simulated CPU ranks', () => {
  for (const [model, size] of [['tiny-a', 1], ['tiny-a', 2], ['tiny-a', 4], ['tiny-b', 1], ['tiny-b', 2]] as const) {
    test(`${model}, N = ${size}: logits ${size === 1 ? 'bit-identical' : `within ${LOGIT_BOUND} of the row scale`}`, async (t) => {
      const r = await compareForward(model, size);
      t.diagnostic(`${r.rows} rows, largest |difference| / row scale ${r.maxRelative.toExponential(2)}`);
    });
  }

  test('tiny-a, N = 2, from the Mistral layout too', async () => {
    await compareForward('tiny-a', 2, 'mistral');
  });

  // The comparison can fail: two deliberate collective bugs, each on rank 1 of 2.
  const broken = (bug: (inner: Collective) => Collective) => (size: number) => createInProcessCollectives(size).map((c) => (c.rank === 1 ? bug(c) : c));
  test('a rank whose partial sum is lost in one all-reduce fails the comparison', async () => {
    let calls = 0;
    const lose = broken((c) => ({
      ...c,
      allReduceSum: (t) => {
        if (++calls === 2) f32(t, 'lost partial sum').fill(0); // the 2nd all-reduce: wo of layer 0
        return c.allReduceSum(t);
      },
    }));
    await assert.rejects(compareForward('tiny-a', 2, 'hf', lose), /logits differ|top-5/);
  });

  test('vocabulary columns gathered in the wrong order fail the comparison', async () => {
    const swap = (size: number) => {
      const inner = createInProcessCollectives(size);
      const gatherAs = (rank: number): Collective['allGatherColumns'] => (out, local) => inner[size - 1 - rank].allGatherColumns(out, local);
      return inner.map((c): Collective => ({ ...c, allGatherColumns: gatherAs(c.rank) }));
    };
    await assert.rejects(compareForward('tiny-a', 2, 'hf', swap), /logits differ|top-5/);
  });

  test('tiny-b, N = 4 is refused: 6 heads do not split over 4 ranks', async () => {
    const ckpt = await openCheckpoint(fixture('models', 'tiny-b', 'hf'));
    try {
      assert.throws(() => validateTensorParallel(ckpt.weights.config.text, 4), /tensor parallel size 4 does not divide the model's 6 attention heads/);
    } finally {
      await ckpt.weights.close();
    }
  });
});
