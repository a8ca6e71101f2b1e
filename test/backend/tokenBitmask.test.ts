// The CPU token bitmask: applyTokenBitmask and its use in sampleRow (before the draw and the
// reported logprobs), with partial last words and rows of the same batch kept apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleRow } from '../../src/backend/sampling/sampleRow.js';
import { applyTokenBitmask, bitmaskAllows } from '../../src/backend/sampling/tokenBitmask.js';
import type { SeqSampling } from '../../src/model/sampling.js';

const base: SeqSampling = {
  temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0, presencePenalty: 0, frequencyPenalty: 0,
  repetitionPenalty: 1, promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 3,
};

function maskOf(vocab: number, allowed: readonly number[]): Int32Array {
  const m = new Int32Array(Math.ceil(vocab / 32));
  for (const id of allowed) m[id >>> 5] |= 1 << (id & 31);
  return m;
}

test('applyTokenBitmask keeps exactly the allowed ids, including bit 31 and a partial last word', () => {
  const vocab = 70;
  const allowed = [0, 31, 32, 63, 64, 69];
  const row = applyTokenBitmask(Float32Array.from({ length: vocab }, (_, i) => i), maskOf(vocab, allowed));
  for (let i = 0; i < vocab; i++) assert.equal(row[i], allowed.includes(i) ? i : -Infinity, `id ${i}`);
  const all = applyTokenBitmask(new Float32Array(vocab).fill(1), new Int32Array(3).fill(-1));
  assert.ok(all.every((v) => v === 1));
  assert.throws(() => applyTokenBitmask(new Float32Array(70), new Int32Array(2)), /needs 3/);
});

test('sampleRow draws only allowed tokens and reports logprobs of the masked distribution', () => {
  const vocab = 1000;
  const raw = Float32Array.from({ length: vocab }, (_, i) => Math.sin(i * 12.9898) * 5);
  const allowed = [3, 500, 999];
  const mask = maskOf(vocab, allowed);
  const greedy = sampleRow(raw, { ...base, allowedTokens: mask });
  const best = allowed.reduce((a, b) => (raw[b] > raw[a] ? b : a));
  assert.equal(greedy.tokenId, best);
  // Logprobs over the three allowed tokens only: they sum to 1.
  const lse = Math.log(allowed.reduce((s, i) => s + Math.exp(raw[i]), 0));
  assert.ok(Math.abs(greedy.logprobs!.logprob - (raw[best] - lse)) < 1e-5);
  assert.equal(greedy.logprobs!.rank, 1);
  for (const [id] of greedy.logprobs!.top) assert.ok(allowed.includes(id));
  for (let seed = 0; seed < 50; seed++) {
    const s = sampleRow(raw, { ...base, temperature: 1.5, seed, allowedTokens: mask });
    assert.ok(bitmaskAllows(mask, s.tokenId), `seed ${seed}: ${s.tokenId}`);
  }
  // Without the mask the same row samples elsewhere: the mask is what constrains it.
  const free = sampleRow(raw, base);
  assert.ok(!allowed.includes(free.tokenId));
});

test('a ban that would empty the mask yields to the grammar (EOS-only mask under minTokens)', () => {
  const raw = new Float32Array(64).fill(0);
  const s = sampleRow(raw, { ...base, bannedTokenIds: [2], allowedTokens: maskOf(64, [2]) });
  assert.equal(s.tokenId, 2);
  const t = sampleRow(raw, { ...base, bannedTokenIds: [2], allowedTokens: maskOf(64, [2, 9]) });
  assert.equal(t.tokenId, 9);
});
