// The CUDA token-bitmask kernel (kernels/token_bitmask.cu, applied by CudaSampler.sample) against
// the CPU reference (src/backend/sampling/tokenBitmask.ts, sampleRow): the masked logits equal
// element for element, the sampled ids and logprobs agree, a free row in the same batch is
// untouched (no mask bleeds between rows), and every sampled id is allowed by its mask.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import { sampleRow } from '../../../src/backend/sampling/sampleRow.js';
import { applyTokenBitmask, bitmaskAllows } from '../../../src/backend/sampling/tokenBitmask.js';
import type { SeqSampling } from '../../../src/model/sampling.js';

let b: CudaBackend;
before(() => {
  b = new CudaBackend();
});
after(async () => {
  await b.close();
});

const base: SeqSampling = {
  temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0, presencePenalty: 0, frequencyPenalty: 0,
  repetitionPenalty: 1, promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 2,
};

function masks(vocab: number): (Int32Array | null)[] {
  const words = Math.ceil(vocab / 32);
  const random = Int32Array.from({ length: words }, () => (Math.random() * 2 ** 32) | 0);
  const one = new Int32Array(words);
  one[1234 % vocab >>> 5] |= 1 << ((1234 % vocab) & 31);
  const most = new Int32Array(words).fill(-1);
  most[0] = 0x0000fff0;
  const sparse = new Int32Array(words);
  for (let i = 7; i < vocab; i += 997) sparse[i >>> 5] |= 1 << (i & 31);
  return [null, random, one, most, sparse];
}

for (const vocab of [1001, 131072]) {
  test(`token bitmask on the GPU equals the CPU reference, vocab ${vocab}`, async () => {
    const m = masks(vocab);
    const rows = m.length;
    const raw = Float32Array.from({ length: rows * vocab }, () => (Math.random() * 2 - 1) * 6);
    const logits = b.alloc([rows, vocab], 'f32');
    b.write(logits, raw);
    for (const temperature of [0, 0.9]) {
      b.write(logits, raw);
      const requests = m.map((mask, row) => ({ row, params: { ...base, temperature, seed: 7 + row, step: 3, allowedTokens: mask } }));
      const got = await b.sample(logits, requests);
      const after = (await b.download(logits)) as Float32Array;
      for (let row = 0; row < rows; row++) {
        const rawRow = raw.subarray(row * vocab, (row + 1) * vocab);
        const want = m[row] ? applyTokenBitmask(new Float32Array(rawRow), m[row]!) : rawRow;
        const gotRow = after.subarray(row * vocab, (row + 1) * vocab);
        let diff = 0;
        for (let i = 0; i < vocab; i++) if (!Object.is(gotRow[i], want[i])) diff++;
        assert.equal(diff, 0, `row ${row}: ${diff} logits differ from the reference mask`);
        const ref = sampleRow(rawRow, requests[row].params);
        assert.equal(got[row].tokenId, ref.tokenId, `row ${row} temperature ${temperature}`);
        assert.ok(Math.abs(got[row].logprobs!.logprob - ref.logprobs!.logprob) < 1e-5);
        if (m[row]) assert.ok(bitmaskAllows(m[row]!, got[row].tokenId), `row ${row}: sampled ${got[row].tokenId}, not allowed`);
      }
    }
    b.free(logits);
  });
}
