// The tensor-parallel sharding plan (docs/tensor-parallel.md): which rows or columns of each
// canonical weight (src/model/weights.ts) rank r of N holds. Megatron-style:
//   column-parallel  wq, wk, wv (whole heads), w1, w3 (intermediate rows): a rank computes a
//                    slice of the outputs from the full input;
//   row-parallel     wo (the columns of its q heads), w2 (its intermediate columns): a rank
//                    computes a partial sum of every output, all-reduced (summed) after;
//   vocab-parallel   tok_embeddings and output (lm_head): rows of the vocabulary;
//   replicated       norms, the vision encoder and the projector.
// KV heads: N divides numKvHeads (each rank holds numKvHeads / N of them) or, as vLLM does for
// N > numKvHeads, numKvHeads divides N and each KV head is replicated on N / numKvHeads ranks.
import type { TextConfig } from '../config.js';

/** Tensor-parallel sizes accepted (vLLM's --tensor-parallel-size on one host). */
export const TENSOR_PARALLEL_SIZES: readonly number[] = [1, 2, 4, 8];

/** A half-open index range [start, start + count). */
export interface IndexRange {
  readonly start: number;
  readonly count: number;
}

/** What rank `rank` of `size` holds of the text decoder, in heads, intermediate rows, vocab rows. */
export interface TextShard {
  readonly rank: number;
  readonly size: number;
  readonly qHeads: IndexRange;
  readonly kvHeads: IndexRange;
  readonly intermediate: IndexRange;
  readonly vocab: IndexRange;
}

/** How one canonical weight is cut for a rank: its rows, its columns (last axis), or all of it. */
export type WeightSlice =
  | { readonly axis: 'rows'; readonly start: number; readonly count: number }
  | { readonly axis: 'columns'; readonly start: number; readonly count: number }
  | { readonly axis: 'replicated' };

/** Throws naming every size that `size` does not divide (or the size itself when not allowed). */
export function validateTensorParallel(cfg: TextConfig, size: number): void {
  if (!TENSOR_PARALLEL_SIZES.includes(size)) {
    throw new Error(`tensor parallel size ${size} is not one of ${TENSOR_PARALLEL_SIZES.join(', ')}`);
  }
  const problems: string[] = [];
  if (cfg.numHeads % size !== 0) problems.push(`${cfg.numHeads} attention heads`);
  if (cfg.numKvHeads % size !== 0 && size % cfg.numKvHeads !== 0) {
    problems.push(`${cfg.numKvHeads} KV heads (neither divides the other)`);
  }
  if (cfg.intermediateSize % size !== 0) problems.push(`intermediate size ${cfg.intermediateSize}`);
  if (cfg.vocabSize % size !== 0) problems.push(`vocabulary size ${cfg.vocabSize}`);
  if (problems.length > 0) {
    throw new Error(`tensor parallel size ${size} does not divide the model's ${problems.join(', ')}`);
  }
}

const split = (total: number, size: number, rank: number): IndexRange => ({ start: (rank * total) / size, count: total / size });

/** Rank `rank`'s share of the text decoder (validates the size first). */
export function textShard(cfg: TextConfig, size: number, rank: number): TextShard {
  validateTensorParallel(cfg, size);
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) throw new Error(`rank ${rank} outside [0, ${size})`);
  const kvHeads = cfg.numKvHeads % size === 0 ? split(cfg.numKvHeads, size, rank) : { start: Math.floor((rank * cfg.numKvHeads) / size), count: 1 };
  return {
    rank,
    size,
    qHeads: split(cfg.numHeads, size, rank),
    kvHeads,
    intermediate: split(cfg.intermediateSize, size, rank),
    vocab: split(cfg.vocabSize, size, rank),
  };
}

/** The text config one rank's ops see: its heads, its intermediate rows, its vocabulary rows. */
export function localTextConfig(cfg: TextConfig, shard: TextShard): TextConfig {
  return { ...cfg, numHeads: shard.qHeads.count, numKvHeads: shard.kvHeads.count, intermediateSize: shard.intermediate.count, vocabSize: shard.vocab.count };
}

/** Which part of canonical weight `name` (shape [out, in]) a rank holds. */
export function weightSlice(name: string, cfg: TextConfig, shard: TextShard): WeightSlice {
  const hd = cfg.headDim;
  const rows = (r: IndexRange, per = 1): WeightSlice => ({ axis: 'rows', start: r.start * per, count: r.count * per });
  const columns = (r: IndexRange, per = 1): WeightSlice => ({ axis: 'columns', start: r.start * per, count: r.count * per });
  if (name === 'tok_embeddings' || name === 'output') return rows(shard.vocab);
  const m = /^layers\.\d+\.(.+)$/.exec(name);
  switch (m?.[1]) {
    case 'attention.wq':
      return rows(shard.qHeads, hd);
    case 'attention.wk':
    case 'attention.wv':
      return rows(shard.kvHeads, hd);
    case 'attention.wo':
      return columns(shard.qHeads, hd);
    case 'feed_forward.w1':
    case 'feed_forward.w3':
      return rows(shard.intermediate);
    case 'feed_forward.w2':
      return columns(shard.intermediate);
    default:
      return { axis: 'replicated' }; // norms, vision.*, projector.*
  }
}
