// Checks a ForwardBatch against the runner's limits before anything touches the device, so a
// bad batch fails with a message naming the field instead of corrupting the KV cache.
import type { ForwardBatch } from './forwardBatch.js';
import type { KvCacheGeometry, RunnerLimits } from './runner.js';
import { rowSamplings, type BatchSampling, type PromptLogprobsRequest } from './sampling.js';

export function validateBatch(
  batch: ForwardBatch,
  sampling: BatchSampling,
  limits: RunnerLimits,
  kv: KvCacheGeometry,
  promptLogprobs?: readonly (PromptLogprobsRequest | null)[],
): void {
  const n = batch.tokenIds.length;
  const seqs = batch.queryLens.length;
  const fail = (msg: string): never => {
    throw new Error(`invalid ForwardBatch: ${msg}`);
  };
  if (n === 0) fail('no tokens');
  if (n > limits.maxNumBatchedTokens) fail(`${n} tokens exceed maxNumBatchedTokens ${limits.maxNumBatchedTokens}`);
  if (seqs > limits.maxNumSeqs) fail(`${seqs} sequences exceed maxNumSeqs ${limits.maxNumSeqs}`);
  for (const [name, arr] of [['positions', batch.positions], ['slotMapping', batch.slotMapping]] as const) {
    if (arr.length !== n) fail(`${name} has ${arr.length} entries for ${n} tokens`);
  }
  for (const [name, len] of [['contextLens', batch.contextLens.length], ['sampleMask', batch.sampleMask.length], ['sampling', sampling.length]] as const) {
    if (len !== seqs) fail(`${name} has ${len} entries for ${seqs} sequences`);
  }
  if (promptLogprobs && promptLogprobs.length !== seqs) fail(`promptLogprobs has ${promptLogprobs.length} entries for ${seqs} sequences`);
  if (batch.blockTables.length !== seqs * batch.maxBlocksPerSeq) fail(`blockTables has ${batch.blockTables.length} entries, not ${seqs} x ${batch.maxBlocksPerSeq}`);
  if (batch.maxBlocksPerSeq > Math.ceil(limits.maxModelLen / kv.blockSize)) fail(`maxBlocksPerSeq ${batch.maxBlocksPerSeq} exceeds what maxModelLen ${limits.maxModelLen} needs`);
  let total = 0;
  for (let s = 0; s < seqs; s++) {
    const q = batch.queryLens[s];
    const ctx = batch.contextLens[s];
    if (q <= 0) fail(`sequence ${s} has queryLen ${q}`);
    if (ctx < q) fail(`sequence ${s}: contextLen ${ctx} < queryLen ${q}`);
    if (ctx > limits.maxModelLen) fail(`sequence ${s}: context of ${ctx} tokens exceeds maxModelLen ${limits.maxModelLen}`);
    if (ctx > batch.maxBlocksPerSeq * kv.blockSize) fail(`sequence ${s}: context of ${ctx} tokens exceeds its ${batch.maxBlocksPerSeq} blocks`);
    for (let j = 0; j < Math.ceil(ctx / kv.blockSize); j++) {
      const block = batch.blockTables[s * batch.maxBlocksPerSeq + j];
      if (!(block >= 0 && block < kv.numBlocks)) fail(`sequence ${s}: block table entry ${j} is ${block}, outside [0, ${kv.numBlocks})`);
    }
    for (let j = 0; j < q; j++) {
      const row = total + j;
      if (batch.positions[row] !== ctx - q + j) fail(`token ${row}: position ${batch.positions[row]}, expected ${ctx - q + j}`);
    }
    const sampledRows = rowSamplings(sampling[s]).length;
    if (batch.sampleMask[s] === 1 && (sampledRows < 1 || sampledRows > q)) fail(`sequence ${s}: ${sampledRows} rows to sample, queryLen is ${q}`);
    const pl = promptLogprobs?.[s];
    if (pl && pl.targetTokenIds.length !== q) fail(`sequence ${s}: promptLogprobs targets ${pl.targetTokenIds.length} rows, queryLen is ${q}`);
    total += q;
  }
  if (total !== n) fail(`queryLens add up to ${total}, but there are ${n} tokens`);
  for (let i = 0; i < n; i++) {
    const id = batch.tokenIds[i];
    if (!(id >= 0 && id < limits.vocabSize)) fail(`token ${i}: id ${id} outside the vocabulary of ${limits.vocabSize}`);
    const slot = batch.slotMapping[i];
    if (!(slot >= -1 && slot < kv.numBlocks * kv.blockSize)) fail(`token ${i}: slot ${slot} outside the cache`);
  }
}
