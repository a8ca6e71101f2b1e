// The SeqSampling semantics on single rows, against hand-computed expectations (vLLM's rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleRow } from '../../../src/backend/sampling/sampleRow.js';
import type { SeqSampling } from '../../../src/backend/sampling/types.js';

const base: SeqSampling = {
  temperature: 1, topK: 0, topP: 1, minP: 0, seed: 0, step: 0, presencePenalty: 0, frequencyPenalty: 0, repetitionPenalty: 1,
  promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: -1,
};

/** Which ids a setting can ever produce, over many (seed, step) draws. */
function support(logits: number[], p: Partial<SeqSampling>, draws = 400): Set<number> {
  const row = Float32Array.from(logits);
  const seen = new Set<number>();
  for (let s = 0; s < draws; s++) seen.add(sampleRow(row, { ...base, ...p, seed: s, step: s % 7 }).tokenId);
  return seen;
}

// probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625
const logits = [Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.0625), Math.log(0.0625)];

test('top-p keeps the smallest head whose mass reaches p (vLLM: drop while the ascending cumsum <= 1 - p)', () => {
  assert.deepEqual([...support(logits, { topP: 0.5 })].sort(), [0]);
  assert.deepEqual([...support(logits, { topP: 0.7 })].sort(), [0, 1]);
  assert.deepEqual([...support(logits, { topP: 0.8 })].sort(), [0, 1, 2]);
  assert.deepEqual([...support(logits, { topP: 1 })].sort(), [0, 1, 2, 3, 4]);
});

test('top-k and min-p', () => {
  assert.deepEqual([...support(logits, { topK: 2 })].sort(), [0, 1]);
  // min-p 0.3: keep p >= 0.3 * 0.5 = 0.15
  assert.deepEqual([...support(logits, { minP: 0.3 })].sort(), [0, 1]);
  // min-p applies after temperature: at temperature 0.5 the probabilities are 0.25^-ish sharper
  assert.deepEqual([...support(logits, { minP: 0.2, temperature: 0.5 })].sort(), [0, 1]);
});

test('draw frequencies follow the distribution, and temperature sharpens it', () => {
  const count = (p: Partial<SeqSampling>) => {
    const c = [0, 0, 0, 0, 0];
    const row = Float32Array.from(logits);
    for (let s = 0; s < 4000; s++) c[sampleRow(row, { ...base, ...p, seed: 1000 + s, step: 0 }).tokenId]++;
    return c.map((x) => x / 4000);
  };
  const f = count({});
  [0.5, 0.25, 0.125, 0.0625, 0.0625].forEach((p, i) => assert.ok(Math.abs(f[i] - p) < 0.03, `id ${i}: ${f[i]} vs ${p}`));
  const cold = count({ temperature: 0.5 }); // p^2 normalised: 0.5^2 / sum
  const sq = [0.25, 0.0625, 0.015625, 0.00390625, 0.00390625];
  const z = sq.reduce((a, b) => a + b, 0);
  sq.forEach((p, i) => assert.ok(Math.abs(cold[i] - p / z) < 0.03, `cold id ${i}`));
});

test('penalties: presence and frequency count output tokens only; repetition also the prompt', () => {
  const row = Float32Array.from([2, 1.9, -1, -1.05]);
  const greedy = { ...base, temperature: 0 };
  assert.equal(sampleRow(row, { ...greedy, presencePenalty: 0.2, promptTokenIds: [0] }).tokenId, 0);
  assert.equal(sampleRow(row, { ...greedy, presencePenalty: 0.2, outputTokenIds: [0] }).tokenId, 1);
  assert.equal(sampleRow(row, { ...greedy, frequencyPenalty: 0.06, outputTokenIds: [0, 0] }).tokenId, 1);
  assert.equal(sampleRow(row, { ...greedy, frequencyPenalty: 0.06, outputTokenIds: [0] }).tokenId, 0);
  // 2 / 1.1 < 1.9: the prompt token loses; a negative logit is multiplied (-1 * 1.1 < -1.05)
  assert.equal(sampleRow(row, { ...greedy, repetitionPenalty: 1.1, promptTokenIds: [0] }).tokenId, 1);
  const neg = Float32Array.from([-1, -1.05]);
  assert.equal(sampleRow(neg, { ...greedy, repetitionPenalty: 1.1, outputTokenIds: [0] }).tokenId, 1);
});

test('logprobs are of the raw distribution even when sampling was transformed', () => {
  const row = Float32Array.from(logits);
  const r = sampleRow(row, { ...base, temperature: 0, logitBias: new Map([[4, 10]]), numLogprobs: 2 });
  assert.equal(r.tokenId, 4);
  assert.ok(r.logprobs && Math.abs(r.logprobs.logprob - Math.log(0.0625)) < 1e-6);
  assert.equal(r.logprobs?.rank, 5);
  assert.deepEqual(r.logprobs?.top.map((t) => t[0]), [0, 1]);
  assert.equal(sampleRow(row, { ...base, numLogprobs: -1 }).logprobs, null);
});
