// The ModelRunner (src/model/runner.ts) over a backend and a WeightSource: owns the weights on
// the device, the paged KV cache and the per-step workspace; runs a ForwardBatch (prefill
// chunks and decode tokens together), places image features, samples, scores prompt tokens.
import type { AttentionMetadata, Backend, DeviceTensor, SampleRequest, ScoreRequest } from '../backend/backend.js';
import type { ModelConfig } from './config.js';
import { freeModelWeights, loadModelWeights, type LoadWeightsOptions, type ModelWeights } from './deviceWeights.js';
import type { ForwardBatch } from './forwardBatch.js';
import { ImageFeatureCache } from './imageFeatureCache.js';
import type { KvCacheGeometry, ModelRunner, RunnerLimits } from './runner.js';
import { rowSamplings, type BatchSampling, type PromptLogprobsChunk, type PromptLogprobsRequest, type SampledToken, type SeqSampling, type StepOutput } from './sampling.js';
import { runTextDecoder, TextWorkspace } from './textDecoder.js';
import { validateBatch } from './validateBatch.js';
import { prefixStarts, StepBuffers } from './stepBuffers.js';
import { DecodeGraphs, decodeStride, restrideBlockTables, uniformQueryLen } from './decodeGraphs.js';
import { plannedWeightBytes } from './weightBytes.js';
import type { WeightSource } from './weights.js';

/** Tokens per KV-cache block. */
export const KV_BLOCK_SIZE = 16;

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(1);

/** What createRunner needs: weights, backend, sizes. */
export interface CreateRunnerOptions {
  readonly weights: WeightSource;
  readonly backend: Backend;
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  /** KV-cache capacity in tokens; default: what is left of `kvCacheMemoryFraction` (vLLM's
   *  gpu_memory_utilization, default 0.9) of the device's total memory once the weights and
   *  the per-step workspace are allocated (and whatever else already uses the device),
   *  capped at maxNumSeqs sequences of maxModelLen. */
  readonly kvCacheTokens?: number;
  readonly kvCacheMemoryFraction?: number;
  /** Run every step's ops directly, never replaying recorded decode graphs (vLLM's
   *  enforce_eager). Default false; the composition root (src/engine/composition.ts) maps
   *  TRAMONTANE_ENFORCE_EAGER=1 to true. */
  readonly enforceEager?: boolean;
  /** Weight loading: progress listener, and the streaming loader's settings. */
  readonly load?: LoadWeightsOptions;
}

/** Builds the ModelRunner (the network on a backend, with its KV cache) from weights. */
export async function createRunner(o: CreateRunnerOptions): Promise<ModelRunner> {
  const cfg = o.weights.config;
  for (const [k, v] of Object.entries({ maxModelLen: o.maxModelLen, maxNumSeqs: o.maxNumSeqs, maxNumBatchedTokens: o.maxNumBatchedTokens })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${k} must be a positive integer (got ${v})`);
  }
  if (o.maxModelLen > cfg.text.maxPositionEmbeddings) {
    throw new Error(`maxModelLen ${o.maxModelLen} exceeds the model's ${cfg.text.maxPositionEmbeddings} positions`);
  }
  // Memory plan, in order: weights, then the per-step workspace, then the KV cache.
  const weightBytes = plannedWeightBytes(o.weights, o.backend, o.load?.quantize);
  const { freeBytes } = o.backend.memoryInfo();
  if (weightBytes > freeBytes) {
    throw new Error(`the model's weights need ${gib(weightBytes)} GiB, ${gib(freeBytes)} GiB free on the ${o.backend.name} backend`);
  }
  const weights = await loadModelWeights(o.weights, o.backend, o.load);
  try {
    return new BackendModelRunner(o, cfg, weights);
  } catch (err) {
    freeModelWeights(o.backend, weights);
    throw err;
  }
}

class BackendModelRunner implements ModelRunner {
  readonly kvCache: KvCacheGeometry;
  readonly limits: RunnerLimits;
  private readonly backend: Backend;
  private readonly kCaches: DeviceTensor[] = [];
  private readonly vCaches: DeviceTensor[] = [];
  private readonly ws: TextWorkspace;
  private readonly images: ImageFeatureCache;
  private readonly maxBlocksPerSeq: number;
  private readonly logitRows: number;
  private readonly step: StepBuffers;
  private readonly rowIndex: DeviceTensor;
  private readonly gathered: DeviceTensor; // [logitRows, hidden]
  private readonly logits: DeviceTensor; // [logitRows, vocab] f32
  /** Recorded decode steps; null with enforceEager. */
  private readonly graphs: DecodeGraphs | null;
  private closed = false;

  constructor(
    o: CreateRunnerOptions,
    private readonly cfg: ModelConfig,
    private readonly weights: ModelWeights,
  ) {
    const b = (this.backend = o.backend);
    const t = cfg.text;
    this.limits = { maxModelLen: o.maxModelLen, vocabSize: t.vocabSize, maxNumBatchedTokens: o.maxNumBatchedTokens, maxNumSeqs: o.maxNumSeqs };
    this.maxBlocksPerSeq = Math.ceil(o.maxModelLen / KV_BLOCK_SIZE);
    // Rows whose logits one gather + matmul + sample round takes: a verify step samples k + 1
    // rows per sequence, so small batches get room for them (up to 128 rows) in one round.
    this.logitRows = Math.max(o.maxNumSeqs, 16, Math.min(o.maxNumBatchedTokens, 128));
    this.ws = new TextWorkspace(b, t, o.maxNumBatchedTokens);
    const T = o.maxNumBatchedTokens;
    this.step = new StepBuffers(b, T, o.maxNumSeqs, this.maxBlocksPerSeq);
    this.rowIndex = b.alloc([this.logitRows], 'i32');
    this.gathered = b.alloc([this.logitRows, t.hiddenSize], b.activationDType);
    this.logits = b.alloc([this.logitRows, t.vocabSize], 'f32');
    const numBlocks = this.planKvBlocks(o);
    const kvBytes = 2 * t.numLayers * numBlocks * KV_BLOCK_SIZE * t.numKvHeads * t.headDim * (b.activationDType === 'f32' ? 4 : 2);
    this.kvCache = { numBlocks, blockSize: KV_BLOCK_SIZE, bytes: kvBytes };
    for (let l = 0; l < t.numLayers; l++) {
      this.kCaches.push(b.alloc([numBlocks, KV_BLOCK_SIZE, t.numKvHeads, t.headDim], b.activationDType));
      this.vCaches.push(b.alloc([numBlocks, KV_BLOCK_SIZE, t.numKvHeads, t.headDim], b.activationDType));
    }
    this.images = new ImageFeatureCache(b, cfg, weights.vision, weights.projector);
    const eager = o.enforceEager ?? false;
    this.graphs = eager || !b.captureGraph ? null : new DecodeGraphs(b);
  }

  /** Decode steps recorded as graphs so far (0 with enforceEager or on a backend without). */
  get decodeGraphCount(): number {
    return this.graphs?.count ?? 0;
  }

  private planKvBlocks(o: CreateRunnerOptions): number {
    const t = this.cfg.text;
    const bytesPerElem = this.backend.activationDType === 'f32' ? 4 : 2;
    const blockBytes = 2 * t.numLayers * KV_BLOCK_SIZE * t.numKvHeads * t.headDim * bytesPerElem;
    const needed = Math.ceil(o.maxModelLen / KV_BLOCK_SIZE);
    const wanted = o.maxNumSeqs * needed; // every sequence at full length, in whole blocks
    let blocks: number;
    if (o.kvCacheTokens !== undefined) {
      blocks = Math.ceil(o.kvCacheTokens / KV_BLOCK_SIZE);
    } else {
      const fraction = o.kvCacheMemoryFraction ?? 0.9;
      const { freeBytes, totalBytes } = this.backend.memoryInfo();
      const budget = Math.min(freeBytes, fraction * totalBytes - (totalBytes - freeBytes));
      blocks = Math.min(wanted, Math.max(0, Math.floor(budget / blockBytes)));
    }
    if (blocks < needed) {
      throw new Error(
        `KV cache of ${blocks} blocks (${blocks * KV_BLOCK_SIZE} tokens, ${blockBytes} bytes a block) cannot hold one sequence of maxModelLen ${o.maxModelLen}: ${gib(needed * blockBytes)} GiB needed, raise the memory utilization or lower maxModelLen`,
      );
    }
    return blocks;
  }

  async execute(batch: ForwardBatch, sampling: BatchSampling, promptLogprobs?: readonly (PromptLogprobsRequest | null)[], samplingReady?: Promise<void>): Promise<StepOutput> {
    if (this.closed) throw new Error('runner is closed');
    const b = this.backend;
    validateBatch(batch, sampling, this.limits, this.kvCache, promptLogprobs);
    const q = uniformQueryLen(batch, sampling, promptLogprobs);
    if (q > 0 && batch.tokenIds.length <= this.logitRows) return this.executeUniform(batch, q, sampling, samplingReady);
    const n = batch.tokenIds.length;
    const starts = prefixStarts(batch.queryLens);
    const meta = this.step.write({
      ...batch,
      queryStarts: starts,
      blocksPerSeq: batch.maxBlocksPerSeq,
      maxQueryLen: Math.max(...batch.queryLens),
      maxContextLen: Math.max(...batch.contextLens),
    });
    const residual = this.ws.rows(this.ws.residual, n);
    b.embedding(residual, this.weights.text.embeddings, this.step.tokens(n).ids);
    for (const place of this.images.place(batch)) {
      const rows = b.alloc([place.batchRows.length], 'i32');
      b.write(rows, place.batchRows);
      b.scatterRows(residual, place.features, rows);
      b.free(rows);
    }
    this.runDecoder(n, meta);
    this.images.release(batch);
    await samplingReady;
    const { sampled, sampledRows } = await this.sampleSequences(batch, starts, sampling);
    const prompt = await this.scorePrompts(batch, starts, promptLogprobs);
    return sampledRows ? { sampled, sampledRows, promptLogprobs: prompt } : { sampled, promptLogprobs: prompt };
  }

  /** The decoder layers over the step's first n rows; positions and slots from the fixed buffers. */
  private runDecoder(n: number, meta: AttentionMetadata): void {
    const { positions, slotMapping } = this.step.tokens(n);
    runTextDecoder(this.backend, this.cfg.text, this.weights.text, this.ws, {
      numTokens: n,
      positions,
      slotMapping,
      meta,
      kCaches: this.kCaches,
      vCaches: this.vCaches,
    });
  }

  /** A decode or verify step (uniformQueryLen q: q rows per sequence, all sampled): the same
   *  ops whether eager or replayed, shaped by (sequences, q, block-table stride) only, reading
   *  per-step values from the fixed buffers; logits for every row straight from the final
   *  hidden states (n * q <= logitRows), so no gather. */
  private async executeUniform(batch: ForwardBatch, q: number, sampling: BatchSampling, samplingReady?: Promise<void>): Promise<StepOutput> {
    const b = this.backend;
    const numSeqs = batch.queryLens.length;
    const n = batch.tokenIds.length; // numSeqs * q
    const stride = decodeStride(batch, KV_BLOCK_SIZE, this.maxBlocksPerSeq);
    const meta = this.step.write({
      ...batch,
      queryStarts: prefixStarts(batch.queryLens),
      blockTables: restrideBlockTables(batch, stride),
      blocksPerSeq: stride,
      maxQueryLen: q,
      maxContextLen: stride * KV_BLOCK_SIZE, // a bound, fixed per shape (sets the attention's splits)
    });
    const logits = b.view(this.logits, [n, this.cfg.text.vocabSize]);
    const forward = (): void => {
      b.embedding(this.ws.rows(this.ws.residual, n), this.weights.text.embeddings, this.step.tokens(n).ids);
      this.runDecoder(n, meta);
      b.matmul(logits, this.ws.rows(this.ws.normed, n), this.weights.text.output);
    };
    if (this.graphs) this.graphs.run(`${numSeqs}:${q}:${stride}`, forward);
    else forward();
    await samplingReady; // the forward pass is queued: grammar masks are filled while it runs
    const requests: SampleRequest[] = [];
    let multi = false;
    for (let s = 0; s < numSeqs; s++) {
      if (Array.isArray(sampling[s])) multi = true;
      rowSamplings(sampling[s]).forEach((params, j) => requests.push({ row: s * q + j, params }));
    }
    const tokens = await b.sample(logits, requests);
    const sampled = Array.from({ length: numSeqs }, (_, s) => tokens[s * q + q - 1]);
    const promptLogprobs = new Array<null>(numSeqs).fill(null);
    if (!multi) return { sampled, promptLogprobs };
    const sampledRows = Array.from({ length: numSeqs }, (_, s) => (Array.isArray(sampling[s]) ? tokens.slice(s * q, s * q + q) : null));
    return { sampled, sampledRows, promptLogprobs };
  }

  /** Computes f32 logits for the given rows of the final hidden states into this.logits. */
  private computeLogits(rows: readonly number[]): DeviceTensor {
    const b = this.backend;
    const m = rows.length;
    b.write(this.rowIndex, Int32Array.from(rows));
    const hidden = this.cfg.text.hiddenSize;
    const gathered = b.view(this.gathered, [m, hidden]);
    b.gatherRows(gathered, this.ws.normed, b.view(this.rowIndex, [m]));
    const logits = b.view(this.logits, [m, this.cfg.text.vocabSize]);
    b.matmul(logits, gathered, this.weights.text.output);
    return logits;
  }

  /** Samples every row the sampling asks for: a sequence's last row, or its last list.length
   *  rows (each with its own params), in chunks of at most logitRows rows. */
  private async sampleSequences(
    batch: ForwardBatch,
    starts: Int32Array,
    sampling: BatchSampling,
  ): Promise<{ sampled: (SampledToken | null)[]; sampledRows: (SampledToken[] | null)[] | null }> {
    const numSeqs = batch.queryLens.length;
    const sampled: (SampledToken | null)[] = new Array(numSeqs).fill(null);
    const wanted: { seq: number; batchRow: number; params: SeqSampling }[] = [];
    let multi = false;
    for (let s = 0; s < numSeqs; s++) {
      if (batch.sampleMask[s] !== 1) continue;
      const rows = rowSamplings(sampling[s]);
      if (rows.length === 0) throw new Error(`sequence ${s} is to be sampled but has no sampling parameters`);
      if (Array.isArray(sampling[s])) multi = true;
      rows.forEach((params, j) => wanted.push({ seq: s, batchRow: starts[s + 1] - rows.length + j, params }));
    }
    const tokens: SampledToken[] = [];
    for (let c = 0; c < wanted.length; c += this.logitRows) {
      const chunk = wanted.slice(c, c + this.logitRows);
      const logits = this.computeLogits(chunk.map((w) => w.batchRow));
      tokens.push(...(await this.backend.sample(logits, chunk.map((w, row) => ({ row, params: w.params })))));
    }
    const sampledRows: (SampledToken[] | null)[] | null = multi ? new Array<SampledToken[] | null>(numSeqs).fill(null) : null;
    wanted.forEach((w, i) => {
      sampled[w.seq] = tokens[i]; // the last row's wins
      if (sampledRows && Array.isArray(sampling[w.seq])) (sampledRows[w.seq] ??= []).push(tokens[i]);
    });
    return { sampled, sampledRows };
  }

  private async scorePrompts(
    batch: ForwardBatch,
    starts: Int32Array,
    requests?: readonly (PromptLogprobsRequest | null)[],
  ): Promise<(PromptLogprobsChunk | null)[]> {
    const out: (PromptLogprobsChunk | null)[] = new Array(batch.queryLens.length).fill(null);
    if (!requests) return out;
    for (let s = 0; s < batch.queryLens.length; s++) {
      const req = requests[s];
      if (!req) continue;
      const scored: number[] = [];
      for (let j = 0; j < batch.queryLens[s]; j++) if (req.targetTokenIds[j] >= 0) scored.push(j);
      if (scored.some((j, i) => j !== scored[0] + i)) throw new Error(`sequence ${s}: prompt logprob targets are not contiguous`);
      const entries = [];
      for (let c = 0; c < scored.length; c += this.logitRows) {
        const part = scored.slice(c, c + this.logitRows);
        const logits = this.computeLogits(part.map((j) => starts[s] + j));
        const reqs: ScoreRequest[] = part.map((j, row) => ({ row, targetTokenId: req.targetTokenIds[j], numLogprobs: req.numLogprobs }));
        entries.push(...(await this.backend.score(logits, reqs)));
      }
      const firstPosition = scored.length > 0 ? batch.positions[starts[s] + scored[0]] + 1 : batch.positions[starts[s]] + 1;
      out[s] = { firstPosition, entries };
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.graphs?.dispose();
    this.images.clear();
    this.ws.free();
    freeModelWeights(this.backend, this.weights);
    for (const t of [...this.kCaches, ...this.vCaches]) this.backend.free(t);
    this.step.free();
    for (const t of [this.rowIndex, this.gathered, this.logits]) {
      this.backend.free(t);
    }
  }
}
