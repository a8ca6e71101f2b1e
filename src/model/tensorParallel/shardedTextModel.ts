// The text decoder split over N ranks (docs/tensor-parallel.md): per rank its weights
// (./shardWeights.ts), its workspace, its KV cache (its KV heads only) and step buffers; a
// step runs every rank's forward concurrently (one async function per rank, meeting at the
// collectives) and returns the all-gathered f32 logits of every token row. Text only: image
// features would enter as in src/model/modelRunner.ts (the vision encoder replicated).
import type { Backend, DeviceTensor } from '../../backend/backend.js';
import type { Collective } from '../../backend/collectives.js';
import type { TextConfig } from '../config.js';
import type { ForwardBatch } from '../forwardBatch.js';
import { KV_BLOCK_SIZE } from '../modelRunner.js';
import { prefixStarts, StepBuffers } from '../stepBuffers.js';
import { TextWorkspace } from '../textDecoder.js';
import type { WeightSource } from '../weights.js';
import { localTextConfig, type TextShard, textShard } from './shardPlan.js';
import { runShardedTextDecoder } from './shardedDecoder.js';
import { freeShardWeights, loadShardTextWeights, localTokenIds, type ShardTextWeights } from './shardWeights.js';

/** The host-side inputs of one text step (a ForwardBatch without images or sampling). */
export type TextStep = Pick<ForwardBatch, 'tokenIds' | 'positions' | 'queryLens' | 'contextLens' | 'slotMapping' | 'blockTables' | 'maxBlocksPerSeq'>;

export interface ShardedTextModelOptions {
  readonly source: WeightSource;
  /** One backend and one collective per rank, index = rank. */
  readonly backends: readonly Backend[];
  readonly collectives: readonly Collective[];
  /** Most tokens in one step, and most sequences. */
  readonly maxTokens: number;
  readonly maxSeqs: number;
  readonly maxBlocksPerSeq: number;
  /** KV-cache blocks of KV_BLOCK_SIZE tokens on every rank. */
  readonly numBlocks: number;
}

interface Rank {
  readonly backend: Backend;
  readonly comm: Collective;
  readonly shard: TextShard;
  readonly local: TextConfig;
  readonly weights: ShardTextWeights;
  readonly ws: TextWorkspace;
  readonly kCaches: DeviceTensor[];
  readonly vCaches: DeviceTensor[];
  readonly step: StepBuffers;
  readonly logitsLocal: DeviceTensor; // f32 [maxTokens, vocab/N]
  readonly logits: DeviceTensor; // f32 [maxTokens, vocab]
}

export class ShardedTextModel {
  private constructor(
    readonly cfg: TextConfig,
    private readonly ranks: readonly Rank[],
    private readonly maxTokens: number,
  ) {}

  static async create(o: ShardedTextModelOptions): Promise<ShardedTextModel> {
    const cfg = o.source.config.text;
    const size = o.backends.length;
    if (o.collectives.length !== size) throw new Error(`${size} backends but ${o.collectives.length} collectives`);
    o.collectives.forEach((c, r) => {
      if (c.rank !== r || c.size !== size) throw new Error(`collective ${r} is rank ${c.rank} of ${c.size}, expected rank ${r} of ${size}`);
    });
    const ranks: Rank[] = [];
    for (let r = 0; r < size; r++) {
      const b = o.backends[r];
      const shard = textShard(cfg, size, r);
      const local = localTextConfig(cfg, shard);
      const weights = await loadShardTextWeights(o.source, b, shard);
      const T = o.maxTokens;
      const cache = () => b.alloc([o.numBlocks, KV_BLOCK_SIZE, local.numKvHeads, local.headDim], b.activationDType);
      ranks.push({
        backend: b,
        comm: o.collectives[r],
        shard,
        local,
        weights,
        ws: new TextWorkspace(b, local, T),
        kCaches: Array.from({ length: cfg.numLayers }, cache),
        vCaches: Array.from({ length: cfg.numLayers }, cache),
        step: new StepBuffers(b, T, o.maxSeqs, o.maxBlocksPerSeq),
        logitsLocal: b.alloc([T, local.vocabSize], 'f32'),
        logits: b.alloc([T, cfg.vocabSize], 'f32'),
      });
    }
    return new ShardedTextModel(cfg, ranks, o.maxTokens);
  }

  /** f32 logits [numTokens, vocab] of every token of the step (as rank 0 holds them). */
  async forward(step: TextStep): Promise<Float32Array> {
    const n = step.tokenIds.length;
    if (n < 1 || n > this.maxTokens) throw new Error(`a step of ${n} tokens (1..${this.maxTokens} allowed)`);
    await Promise.all(this.ranks.map((rank) => this.forwardRank(rank, step)));
    const r0 = this.ranks[0];
    return (await r0.backend.download(r0.backend.view(r0.logits, [n, this.cfg.vocabSize]))) as Float32Array;
  }

  private async forwardRank(rank: Rank, step: TextStep): Promise<void> {
    const b = rank.backend;
    const n = step.tokenIds.length;
    const meta = rank.step.write({
      ...step,
      tokenIds: localTokenIds(step.tokenIds, rank.shard),
      queryStarts: prefixStarts(step.queryLens),
      blocksPerSeq: step.maxBlocksPerSeq,
      maxQueryLen: Math.max(...step.queryLens),
      maxContextLen: Math.max(...step.contextLens),
    });
    const { ids, positions, slotMapping } = rank.step.tokens(n);
    const residual = rank.ws.rows(rank.ws.residual, n);
    b.embedding(residual, rank.weights.embeddings, ids);
    await rank.comm.allReduceSum(residual); // one rank's row plus zeros: exact
    await runShardedTextDecoder(b, rank.comm, rank.local, rank.weights, rank.ws, {
      numTokens: n,
      positions,
      slotMapping,
      meta,
      kCaches: rank.kCaches,
      vCaches: rank.vCaches,
    });
    const localLogits = b.view(rank.logitsLocal, [n, rank.local.vocabSize]);
    b.matmul(localLogits, rank.ws.rows(rank.ws.normed, n), rank.weights.output);
    await rank.comm.allGatherColumns(b.view(rank.logits, [n, this.cfg.vocabSize]), localLogits);
  }

  /** Frees every rank's tensors (the backends stay open: their owner closes them). */
  free(): void {
    for (const r of this.ranks) {
      r.ws.free();
      freeShardWeights(r.backend, r.weights);
      r.step.free();
      for (const t of [...r.kCaches, ...r.vCaches, r.logitsLocal, r.logits]) r.backend.free(t);
    }
  }
}
