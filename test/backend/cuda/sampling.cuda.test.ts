// GPU sampling against the CPU reference semantics (src/backend/sampling/sampleRow.ts) on the
// same logits, seeds and steps: every sampled id and every logprob must agree, for greedy,
// temperature, top-k, top-p, min-p, their combinations, and bias / bans / penalties. The
// draws use the same counter hash, so equal ids are expected, not just equal distributions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import { sampleRow } from '../../../src/backend/sampling/sampleRow.js';
import type { SeqSampling } from '../../../src/backend/sampling/types.js';

let b: CudaBackend;
before(() => {
  b = new CudaBackend();
});
after(async () => {
  await b.close();
});

const base: SeqSampling = {
  temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0, presencePenalty: 0, frequencyPenalty: 0,
  repetitionPenalty: 1, promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 3,
};

const cases: [string, Partial<SeqSampling>][] = [
  ['greedy', {}],
  ['temperature 0.8', { temperature: 0.8 }],
  ['top-k 20', { temperature: 1, topK: 20 }],
  ['top-p 0.9', { temperature: 0.7, topP: 0.9 }],
  ['min-p 0.05', { temperature: 1.2, minP: 0.05 }],
  ['top-k 50 + top-p 0.8 + min-p 0.02', { temperature: 1, topK: 50, topP: 0.8, minP: 0.02 }],
  ['penalties, bias, bans', {
    temperature: 0.9, topP: 0.95, repetitionPenalty: 1.3, frequencyPenalty: 0.5, presencePenalty: 0.3,
    promptTokenIds: [1, 2, 3, 50, 51], outputTokenIds: [7, 7, 9, 50], logitBias: new Map([[11, 3], [12, -2]]), bannedTokenIds: [0, 5],
  }],
];

for (const vocab of [2000, 131072]) {
  test(`GPU sampling equals the reference semantics, vocab ${vocab}`, async () => {
    const rows = 3;
    const raw = Float32Array.from({ length: rows * vocab }, () => (Math.random() * 2 - 1) * 6);
    const logits = b.alloc([rows, vocab], 'f32');
    b.write(logits, raw);
    const draws = vocab > 10000 ? 3 : 8;
    const mismatches: string[] = [];
    let compared = 0;
    for (const [name, over] of cases) {
      const requests = [];
      for (let i = 0; i < draws; i++) {
        requests.push({ row: i % rows, params: { ...base, ...over, seed: 1000 + i, step: 17 * i } });
      }
      const got = await b.sample(logits, requests);
      requests.forEach((req, i) => {
        const want = sampleRow(raw.subarray(req.row * vocab, (req.row + 1) * vocab), req.params);
        compared++;
        const g = got[i];
        const lpOk = g.logprobs !== null && want.logprobs !== null &&
          Math.abs(g.logprobs.logprob - want.logprobs.logprob) < 1e-5 && g.logprobs.rank === want.logprobs.rank &&
          g.logprobs.top.every((t, j) => t[0] === want.logprobs?.top[j][0] && Math.abs(t[1] - want.logprobs.top[j][1]) < 1e-5);
        if (g.tokenId !== want.tokenId || !lpOk) {
          mismatches.push(`${name} draw ${i}: gpu ${g.tokenId} (${JSON.stringify(g.logprobs)}) vs reference ${want.tokenId} (${JSON.stringify(want.logprobs)})`);
        }
      });
    }
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${compared} draws differ`);
  });
}
