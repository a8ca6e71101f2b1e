// A small deterministic ModelRunner for engine unit tests (it tests the scheduler, not the
// model). It keeps a paged "KV cache" of token ids and positions, and derives each next token
// from the context it reads back through the block table, so a wrong slot mapping, block
// table, prefix-cache hit or image span changes the output or throws.
import type { ForwardBatch } from '../../src/model/forwardBatch.js';
import type { KvCacheGeometry, ModelRunner, RunnerLimits } from '../../src/model/runner.js';
import { rowSamplings, type BatchSampling, type PromptLogprobsChunk, type PromptLogprobsRequest, type SampledToken, type SeqSampling, type StepOutput, type TokenLogprobs } from '../../src/model/sampling.js';

export interface FakeRunnerOptions {
  numBlocks: number;
  blockSize: number;
  vocabSize?: number;
  maxModelLen?: number;
  maxNumBatchedTokens?: number;
  maxNumSeqs?: number;
  /** Token ids the fake never samples (e.g. specials); default 0..2. */
  neverSample?: number[];
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

export class FakeRunner implements ModelRunner {
  readonly kvCache: KvCacheGeometry;
  readonly limits: RunnerLimits;
  readonly kvValue: Int32Array;
  readonly kvPosition: Int32Array;
  readonly batches: ForwardBatch[] = [];
  keepBatches = false;
  closed = false;
  failNext: Error | null = null;
  private readonly neverSample: Set<number>;

  constructor(o: FakeRunnerOptions) {
    this.kvCache = { numBlocks: o.numBlocks, blockSize: o.blockSize };
    this.limits = {
      maxModelLen: o.maxModelLen ?? 256,
      vocabSize: o.vocabSize ?? 64,
      maxNumBatchedTokens: o.maxNumBatchedTokens ?? 64,
      maxNumSeqs: o.maxNumSeqs ?? 16,
    };
    this.kvValue = new Int32Array(o.numBlocks * o.blockSize).fill(-1);
    this.kvPosition = new Int32Array(o.numBlocks * o.blockSize).fill(-1);
    this.neverSample = new Set(o.neverSample ?? [0, 1]);
  }

  async execute(batch: ForwardBatch, sampling: BatchSampling, promptLogprobs?: readonly (PromptLogprobsRequest | null)[]): Promise<StepOutput> {
    const failure = this.failNext;
    this.failNext = null;
    await new Promise<void>((r) => setImmediate(r));
    if (failure) throw failure;
    if (this.keepBatches) this.batches.push(batch);
    const n = batch.tokenIds.length;
    if (n > this.limits.maxNumBatchedTokens) throw new Error(`batch of ${n} tokens over the limit`);
    if (batch.queryLens.length > this.limits.maxNumSeqs) throw new Error(`batch of ${batch.queryLens.length} sequences over the limit`);
    // K/V write, with image content folded into image rows.
    const imageValue = new Int32Array(n);
    for (const img of batch.images) {
      for (let j = 0; j < img.length; j++) imageValue[img.batchStart + j] = 1 + Math.floor(img.pixels[(img.spanOffset + j) % img.pixels.length] * 1000);
    }
    for (let r = 0; r < n; r++) {
      this.kvValue[batch.slotMapping[r]] = batch.tokenIds[r] * 7919 + imageValue[r];
      this.kvPosition[batch.slotMapping[r]] = batch.positions[r];
    }
    const bs = this.kvCache.blockSize;
    const sampled: (SampledToken | null)[] = [];
    const sampledRows: (SampledToken[] | null)[] = [];
    const plOut: (PromptLogprobsChunk | null)[] = [];
    let row = 0;
    for (let s = 0; s < batch.queryLens.length; s++) {
      const q = batch.queryLens[s];
      const ctx = batch.contextLens[s];
      // Hash of the context read back through the block table, prefix by prefix.
      const prefixHash: number[] = [];
      let h = 17;
      for (let p = 0; p < ctx; p++) {
        const slot = batch.blockTables[s * batch.maxBlocksPerSeq + Math.floor(p / bs)] * bs + (p % bs);
        if (this.kvPosition[slot] !== p) throw new Error(`seq ${s}: slot ${slot} holds position ${this.kvPosition[slot]}, expected ${p}`);
        h = mix(h, this.kvValue[slot]);
        prefixHash.push(h);
      }
      const plReq = promptLogprobs?.[s] ?? null;
      if (plReq) {
        const entries: TokenLogprobs[] = [];
        let first = -1;
        for (let j = 0; j < q; j++) {
          const target = plReq.targetTokenIds[j];
          if (target < 0) continue;
          if (first < 0) first = ctx - q + j + 1;
          entries.push(this.logprobsFor(prefixHash[ctx - q + j], target, plReq.numLogprobs));
        }
        plOut.push(first < 0 ? null : { firstPosition: first, entries });
      } else plOut.push(null);
      const rows = batch.sampleMask[s] ? rowSamplings(sampling[s]) : [];
      // Row j of R sampled rows reads the context up to position ctx - R + j.
      const tokens = rows.map((sp, j) => this.sampleAt(prefixHash[ctx - rows.length + j], sp));
      sampled.push(tokens.length > 0 ? tokens[tokens.length - 1] : null);
      sampledRows.push(Array.isArray(sampling[s]) ? tokens : null);
      row += q;
    }
    if (row !== n) throw new Error('queryLens do not sum to the batch size');
    return sampledRows.some((r) => r !== null) ? { sampled, sampledRows, promptLogprobs: plOut } : { sampled, promptLogprobs: plOut };
  }

  private sampleAt(h: number, sp: SeqSampling): SampledToken {
    let x = sp.temperature === 0 ? h : mix(mix(h, sp.seed), sp.step);
    let token = x % this.limits.vocabSize;
    while (this.neverSample.has(token) || sp.bannedTokenIds.includes(token)) {
      x = mix(x, 1);
      token = x % this.limits.vocabSize;
    }
    return { tokenId: token, logprobs: this.logprobsFor(h, token, sp.numLogprobs) };
  }

  private logprobsFor(h: number, token: number, k: number): TokenLogprobs {
    const logprob = -((mix(h, token) % 1000) / 100);
    const top: [number, number][] = [];
    for (let i = 0; i < k; i++) top.push([(token + i + 1) % this.limits.vocabSize, -i / 10]);
    return { logprob, rank: 1 + (mix(h, token) % 5), top };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
