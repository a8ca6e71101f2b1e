// Greedy speculative decoding on the CUDA backend (bf16) against plain greedy decoding.
//
// Near-tie rule: a verify step computes the k + 1 rows of a sequence through the prefill
// (flash) attention and a batched matmul, where the plain step uses the decode attention kernel
// and a gemv: the same math with f32 sums in another order before each bf16 rounding. On one
// backend two such paths keep every logprob within SAME_BACKEND_BOUND (0.05, ../../model/
// bf16Bound.ts) of each other, so each of the top two logprobs moves by at most that much and
// their order can only flip where their margin is below NEAR_TIE = 2 * SAME_BACKEND_BOUND. The
// two continuations must therefore be equal up to their first difference, and at that position
// the plain run's top-1/top-2 margin must be below NEAR_TIE (after it, the contexts differ and
// nothing more is compared).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LLM, type LLMOptions } from '../../../src/engine/llm.js';
import { findImageSpans, type PreparedImage, type TokensPrompt } from '../../../src/engine/promptInput.js';
import type { RequestOutput } from '../../../src/engine/outputs.js';
import { SAME_BACKEND_BOUND } from '../../model/bf16Bound.js';
import { readModelReference, type ReferencePrompt } from '../../helpers/modelReference.js';
import { fixture } from '../../helpers/paths.js';

const NEAR_TIE = 2 * SAME_BACKEND_BOUND;
const ref = readModelReference('tiny-a');
const IMG = { img: 10, imgBreak: 12, imgEnd: 13 };
const TINY_A = fixture('models', 'tiny-a', 'mistral');
const base: LLMOptions = { model: TINY_A, device: 'cuda', maxModelLen: 256, maxNumSeqs: 16, maxNumBatchedTokens: 64, kvCacheTokens: 16 * 256 };

function tokensPrompt(p: ReferencePrompt): TokensPrompt {
  const spans = findImageSpans(p.tokenIds, IMG);
  const image: PreparedImage[] = p.images.map((img, k) => ({ ...img, tokens: p.tokenIds.slice(spans[k].start, spans[k].start + spans[k].length) }));
  return { promptTokenIds: p.tokenIds, multiModalData: { image } };
}

const repetitive = (seed: number) => ({ promptTokenIds: [1, ...Array.from({ length: 40 }, (_, i) => 1000 + ((i * (seed + 3)) % (7 + seed)))] });
const prompts: TokensPrompt[] = [...ref.prompts.map(tokensPrompt), ...[0, 1, 2, 3, 4, 5].map(repetitive)];
const params = { temperature: 0, maxTokens: 48, ignoreEos: true, logprobs: 2 };

let plain: RequestOutput[];
before(async () => {
  const llm = await LLM.create(base);
  plain = await llm.generate(prompts, params);
  await llm.close();
});

let open: LLM | null = null;
after(async () => {
  await open?.close();
});

function margin(out: RequestOutput, t: number): number {
  const top = [...out.outputs[0].logprobs![t]].sort((a, b) => a.rank - b.rank);
  return top[0].logprob - top[1].logprob;
}

for (const [name, cfg] of [
  ['ngram k=4', { method: 'ngram', num_speculative_tokens: 4, prompt_lookup_max: 4, prompt_lookup_min: 2 }],
  ['draft model (the target itself) k=3', { method: 'draft_model', model: TINY_A, num_speculative_tokens: 3 }],
  ['draft model (the target itself) k=8', { method: 'draft_model', model: TINY_A, num_speculative_tokens: 8 }],
] as const) {
  test(`CUDA greedy with ${name} equals plain greedy up to near-ties (margin < ${NEAR_TIE})`, async () => {
    open = await LLM.create({ ...base, speculativeConfig: cfg });
    const outs = await open.generate(prompts, params);
    let compared = 0;
    let ties = 0;
    outs.forEach((o, i) => {
      const a = o.outputs[0].tokenIds;
      const b = plain[i].outputs[0].tokenIds;
      const d = a.findIndex((t, j) => t !== b[j]);
      compared += d < 0 ? a.length : d;
      if (d < 0) return;
      ties++;
      const m = margin(plain[i], d);
      assert.ok(m < NEAR_TIE, `prompt ${i}: first difference at output ${d} (${a[d]} vs ${b[d]}) where the plain top-2 margin is ${m.toFixed(4)}`);
      assert.ok(margin(o, d) < NEAR_TIE, `prompt ${i}: the speculative run's margin at ${d} is ${margin(o, d).toFixed(4)}`);
    });
    const st = open.engine.speculator!.stats;
    assert.ok(st.numDraftTokens > 0 && st.numAcceptedTokens > 0, `drafts verified and accepted (${st.numAcceptedTokens}/${st.numDraftTokens})`);
    assert.ok(compared > prompts.length * 24, `${compared} tokens compared, ${ties} sequences diverged at near-ties`);
    assert.equal(open.engine.blocks.numFreeBlocks, open.engine.blocks.numBlocks);
    await open.close();
    open = null;
  });
}
