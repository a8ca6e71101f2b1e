// Decode steps replayed as CUDA graphs give exactly what the same steps run eagerly give:
// two runners over the same weights on one backend, one with enforceEager, fed the same
// batches (a mixed prefill, then decode steps whose per-step inputs change every step) at
// several batch sizes; sampled ids and logprobs must be equal bit for bit, and the graph
// runner must have recorded graphs (so later steps were replays, not direct launches).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { createRunner } from '../../src/model/modelRunner.js';
import type { ModelRunner } from '../../src/model/runner.js';
import type { ForwardBatch } from '../../src/model/forwardBatch.js';
import type { SampledToken, SeqSampling } from '../../src/model/sampling.js';
import { randomWeightSource, tinyConfig } from '../helpers/randomWeights.js';

const cfg = tinyConfig({ vision: false });
const BLOCK = 16;
const MAX_LEN = 1024;
const PER_SEQ = MAX_LEN / BLOCK;
let backend: CudaBackend;
let eager: ModelRunner;
let graphed: ModelRunner;

before(async () => {
  backend = new CudaBackend();
  const common = { backend, maxModelLen: MAX_LEN, maxNumSeqs: 8, maxNumBatchedTokens: 4096 };
  eager = await createRunner({ ...common, weights: randomWeightSource(cfg), enforceEager: true });
  graphed = await createRunner({ ...common, weights: randomWeightSource(cfg), enforceEager: false });
});
after(async () => {
  await eager.close();
  await graphed.close();
  await backend.close();
});

function params(seq: number, step: number, temperature: number): SeqSampling {
  return {
    temperature, topK: 0, topP: 1, minP: 0, seed: 11 + seq, step, presencePenalty: 0, frequencyPenalty: 0, repetitionPenalty: 1,
    promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 3,
  };
}

/** Sequence s holds blocks [s * PER_SEQ, (s + 1) * PER_SEQ); its token at position p sits in
 *  slot s * MAX_LEN + p. */
function batchOf(tokens: number[][], positions: number[][], contexts: number[]): ForwardBatch {
  const n = tokens.length;
  const flatPos = positions.flat();
  const slots = positions.flatMap((ps, s) => ps.map((p) => s * MAX_LEN + p));
  const maxBlocks = Math.max(...contexts.map((c) => Math.ceil(c / BLOCK)));
  const tables = new Int32Array(n * maxBlocks).fill(-1);
  for (let s = 0; s < n; s++) for (let b = 0; b < Math.ceil(contexts[s] / BLOCK); b++) tables[s * maxBlocks + b] = s * PER_SEQ + b;
  return {
    tokenIds: Int32Array.from(tokens.flat()),
    positions: Int32Array.from(flatPos),
    queryLens: Int32Array.from(tokens.map((t) => t.length)),
    contextLens: Int32Array.from(contexts),
    slotMapping: Int32Array.from(slots),
    blockTables: tables,
    maxBlocksPerSeq: maxBlocks,
    images: [],
    sampleMask: new Uint8Array(n).fill(1),
  };
}

async function both(batch: ForwardBatch, sampling: SeqSampling[]): Promise<SampledToken[]> {
  const a = await eager.execute(batch, sampling);
  const b = await graphed.execute(batch, sampling);
  assert.deepEqual(b.sampled, a.sampled);
  return a.sampled.map((t) => {
    assert.ok(t);
    return t;
  });
}

for (const [batchSize, promptLen, temperature] of [[1, 9, 0], [2, 30, 0], [3, 250, 0.8], [5, 17, 0], [8, 40, 1]] as const) {
  test(`cuda graphs: ${batchSize} sequence(s), prompts of ~${promptLen}, temperature ${temperature}: replay == eager`, async () => {
    const prompts = Array.from({ length: batchSize }, (_, s) => Array.from({ length: promptLen + s }, (_, i) => 1 + ((i * 37 + s * 11) % (cfg.text.vocabSize - 1))));
    let lens = prompts.map((p) => p.length);
    let last = await both(
      batchOf(prompts, prompts.map((p) => p.map((_, i) => i)), lens),
      prompts.map((_, s) => params(s, 0, temperature)),
    );
    const before = (graphed as unknown as { decodeGraphCount: number }).decodeGraphCount;
    for (let step = 1; step <= 8; step++) {
      const tokens = last.map((t) => [t.tokenId]);
      const positions = lens.map((l) => [l]);
      lens = lens.map((l) => l + 1);
      last = await both(batchOf(tokens, positions, lens), prompts.map((_, s) => params(s, step, temperature)));
    }
    const after = (graphed as unknown as { decodeGraphCount: number }).decodeGraphCount;
    assert.ok(after > before, `graphs recorded (${before} -> ${after})`);
    assert.equal((eager as unknown as { decodeGraphCount: number }).decodeGraphCount, 0);
  });
}

for (const [batchSize, q] of [[1, 5], [4, 3]] as const) {
  test(`cuda graphs: verify steps of ${q} rows for ${batchSize} sequence(s): replay == eager, recorded per (batch, rows)`, async () => {
    const prompts = Array.from({ length: batchSize }, (_, s) => Array.from({ length: 20 + s }, (_, i) => 1 + ((i * 29 + s * 7) % (cfg.text.vocabSize - 1))));
    let lens = prompts.map((p) => p.length);
    const first = await both(batchOf(prompts, prompts.map((p) => p.map((_, i) => i)), lens), prompts.map((_, s) => params(s, 0, 0)));
    let rows = first.map((t) => Array.from({ length: q }, (_, j) => (t.tokenId + j * 13) % cfg.text.vocabSize));
    const before = (graphed as unknown as { decodeGraphCount: number }).decodeGraphCount;
    for (let step = 1; step <= 4; step++) {
      const positions = lens.map((l) => Array.from({ length: q }, (_, j) => l + j));
      lens = lens.map((l) => l + q);
      const batch = batchOf(rows, positions, lens);
      const sampling = rows.map((_, s) => Array.from({ length: q }, (_, j) => params(s, step + j, 0.7)));
      const a = await eager.execute(batch, sampling);
      const b = await graphed.execute(batch, sampling);
      assert.ok(a.sampledRows && b.sampledRows);
      assert.deepEqual(b.sampledRows, a.sampledRows);
      assert.deepEqual(b.sampled, a.sampled);
      rows = a.sampledRows.map((r) => (r ?? []).map((t) => t.tokenId));
    }
    const after = (graphed as unknown as { decodeGraphCount: number }).decodeGraphCount;
    assert.ok(after > before, `verify graphs recorded (${before} -> ${after})`);
  });
}
