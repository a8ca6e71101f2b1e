// Speculative decoding on the real tiny checkpoints (CPU, f32): greedy output with speculation
// is token-for-token the output without it (and transformers' reference), for both methods and
// k = 1..8, text and image prompts, in batches mixing verify steps, plain decodes and prompt
// chunks; seeded sampling gives the same tokens too; at temperature 1 the verified token keeps
// the target distribution (chi-square); every block returns to both pools.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LLM, type LLMOptions } from '../../../src/engine/llm.js';
import { findImageSpans, type PreparedImage, type TokensPrompt } from '../../../src/engine/promptInput.js';
import type { SamplingParamsInput } from '../../../src/engine/samplingParams.js';
import { DraftModelProposer } from '../../../src/engine/speculative/draftModel.js';
import { readModelReference, type ReferencePrompt } from '../../helpers/modelReference.js';
import { fixture } from '../../helpers/paths.js';

const ref = readModelReference('tiny-a');
const IMG = { img: 10, imgBreak: 12, imgEnd: 13 };
const TINY_A = fixture('models', 'tiny-a', 'mistral');

function tokensPrompt(p: ReferencePrompt): TokensPrompt {
  const spans = findImageSpans(p.tokenIds, IMG);
  const image: PreparedImage[] = p.images.map((img, k) => ({ ...img, tokens: p.tokenIds.slice(spans[k].start, spans[k].start + spans[k].length) }));
  return { promptTokenIds: p.tokenIds, multiModalData: { image } };
}

const base: LLMOptions = { model: TINY_A, maxModelLen: 160, maxNumSeqs: 8, maxNumBatchedTokens: 24, threads: 1, runnerThread: false };

// Every reference prompt greedy (16 tokens: transformers' continuation), plus seeded sampled
// requests and a repetitive text prompt (so n-gram lookups find matches).
const repetitive = { promptTokenIds: [1, ...Array.from({ length: 30 }, (_, i) => 1000 + ((i * 7) % 11))] };
const prompts: TokensPrompt[] = [...ref.prompts.map(tokensPrompt), ref.prompts.map(tokensPrompt)[0], repetitive, repetitive];
const params: SamplingParamsInput[] = [
  ...ref.prompts.map(() => ({ temperature: 0, maxTokens: 16, ignoreEos: true, logprobs: 3 })),
  { temperature: 1, seed: 7, maxTokens: 12, ignoreEos: true, logprobs: 2 },
  { temperature: 0, maxTokens: 40, ignoreEos: true },
  { temperature: 0.8, topK: 20, topP: 0.9, minP: 0.02, seed: 3, maxTokens: 20, ignoreEos: true, n: 2 },
];

let plain: Awaited<ReturnType<LLM['generate']>>;
before(async () => {
  const llm = await LLM.create(base);
  plain = await llm.generate(prompts, params);
  await llm.close();
  ref.prompts.forEach((p, i) => assert.deepEqual(plain[i].outputs[0].tokenIds, p.greedy, `plain ${p.name}`));
});

async function compareWith(speculativeConfig: Record<string, unknown>): Promise<LLM> {
  const llm = await LLM.create({ ...base, speculativeConfig });
  const outs = await llm.generate(prompts, params);
  const what = JSON.stringify(speculativeConfig);
  outs.forEach((o, i) => {
    o.outputs.forEach((c, j) => {
      const want = plain[i].outputs[j];
      assert.deepEqual(c.tokenIds, want.tokenIds, `${what}: prompt ${i} sequence ${j}`);
      assert.equal(c.text, want.text);
      assert.equal(c.finishReason, want.finishReason);
      if (want.logprobs) {
        c.logprobs!.forEach((pos, t) => {
          assert.deepEqual(pos.map((e) => e.tokenId), want.logprobs![t].map((e) => e.tokenId), `${what}: prompt ${i} logprobs ${t}`);
          pos.forEach((e, r) => assert.ok(Math.abs(e.logprob - want.logprobs![t][r].logprob) < 1e-4));
        });
      }
    });
  });
  const blocks = llm.engine.blocks;
  assert.equal(blocks.numFreeBlocks, blocks.numBlocks, `${what}: every target block back`);
  blocks.checkInvariants();
  const proposer = llm.engine.speculator!.proposer;
  if (proposer instanceof DraftModelProposer) {
    assert.equal(proposer.blocks.numFreeBlocks, proposer.blocks.numBlocks, `${what}: every draft block back`);
    proposer.blocks.checkInvariants();
  }
  return llm;
}

test('n-gram, k = 1..8: the same tokens, text and logprobs as without speculation', async () => {
  let accepted = 0;
  for (let k = 1; k <= 8; k++) {
    const llm = await compareWith({ method: 'ngram', num_speculative_tokens: k, prompt_lookup_max: 4, prompt_lookup_min: 2 });
    const st = llm.engine.speculator!.stats;
    assert.ok(st.numDraftTokens > 0, `k ${k}: the lookup proposed`);
    accepted += st.numAcceptedTokens;
    await llm.close();
  }
  assert.ok(accepted > 0, 'some lookups were accepted');
});

test('draft model, k = 1..8 (the target itself as draft: all accepted; a dummy-weight draft: mostly rejected)', async () => {
  for (let k = 1; k <= 8; k++) {
    const dummy = k % 2 === 0;
    const llm = await compareWith({ method: 'draft_model', model: TINY_A, num_speculative_tokens: k, ...(dummy ? { load_format: 'dummy' } : {}) });
    const st = llm.engine.speculator!.stats;
    assert.ok(st.numDrafts > 0);
    if (!dummy) {
      // Greedy rows accept every draft; the sampled requests accept their draws that hit the mode.
      assert.ok(st.numAcceptedTokens > 0.4 * st.numDraftTokens, `k ${k}: ${st.numAcceptedTokens}/${st.numDraftTokens}`);
      assert.equal(st.acceptedPerPosition.length, k);
    } else assert.ok(st.numAcceptedTokens < 0.5 * st.numDraftTokens, `k ${k} dummy draft: ${st.numAcceptedTokens}/${st.numDraftTokens}`);
    await llm.close();
  }
});

test('a draft model with another vocabulary is refused', async () => {
  await assert.rejects(
    LLM.create({ ...base, speculativeConfig: { method: 'draft_model', model: fixture('models', 'tiny-b', 'mistral'), num_speculative_tokens: 2, load_format: 'dummy' } }),
    /vocabulary has 1300 tokens, the target's 1280/,
  );
});

let chiLlm: LLM | null = null;
after(async () => {
  await chiLlm?.close();
});

test('temperature 1: the verified token keeps the target distribution (chi-square over seeded draws)', async () => {
  // Draft = the target (proposes its mode). Output 1 comes from the verify step's first row:
  // given output 0 = m, it must follow p(. | prompt, m), read off the model's own logprobs.
  chiLlm = await LLM.create({ ...base, maxNumSeqs: 64, maxNumBatchedTokens: 256, speculativeConfig: { method: 'draft_model', model: TINY_A, num_speculative_tokens: 3 } });
  const llm = chiLlm;
  const prompt = { promptTokenIds: ref.prompts[0].tokenIds };
  const N = 1500;
  const outs = await llm.generate(Array.from({ length: N }, () => prompt), Array.from({ length: N }, (_, i) => ({ temperature: 1, seed: 1000 + i, maxTokens: 3, ignoreEos: true })));
  const counts = new Map<number, number>();
  for (const o of outs) counts.set(o.outputs[0].tokenIds[0], (counts.get(o.outputs[0].tokenIds[0]) ?? 0) + 1);
  const m = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const second = outs.filter((o) => o.outputs[0].tokenIds[0] === m).map((o) => o.outputs[0].tokenIds[1]);
  assert.ok(second.length >= 200, `${second.length} draws after the mode ${m}`);
  assert.ok(llm.engine.speculator!.stats.numDrafts >= N, 'every second token came from a verify step');
  // p(. | prompt, m) at temperature 1 is the raw distribution the logprobs report.
  const [exact] = await llm.generate({ promptTokenIds: [...prompt.promptTokenIds, m] }, { temperature: 0, maxTokens: 1, logprobs: 6 });
  const top = [...exact.outputs[0].logprobs![0]].sort((a, b) => a.rank - b.rank).slice(0, 6);
  const probs = top.map((e) => Math.exp(e.logprob));
  const bins = [...probs, 1 - probs.reduce((a, b) => a + b, 0)];
  const observed = bins.map(() => 0);
  for (const t of second) {
    const i = top.findIndex((e) => e.tokenId === t);
    observed[i < 0 ? bins.length - 1 : i]++;
  }
  let chi2 = 0;
  let dof = -1;
  bins.forEach((p, i) => {
    const expected = p * second.length;
    if (expected < 5) return;
    chi2 += (observed[i] - expected) ** 2 / expected;
    dof++;
  });
  assert.ok(dof >= 1, `${dof} degrees of freedom: ${second.length} draws, probs ${bins.map((p) => p.toFixed(4))}, counts ${JSON.stringify([...counts])}`);
  // 99.9% quantiles of chi-square for 1..6 degrees of freedom.
  const critical = [0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46][dof];
  assert.ok(chi2 < critical, `chi-square ${chi2.toFixed(2)} with ${dof} dof (critical ${critical}); observed ${observed}, expected ${bins.map((p) => (p * second.length).toFixed(1))}`);
  // A sampler that took the draft whenever offered would put everything on one token.
  assert.ok(Math.max(...observed) < second.length * 0.99);
});
