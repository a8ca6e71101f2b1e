// Decode steps as recorded graphs (CUDA graphs on the CUDA backend): a step in which every
// sequence has the same number q of new tokens, every one of them sampled (q = 1: a plain
// decode step; q = k + 1: a speculative verify step of k drafts per sequence), runs the same
// ops with the same launch parameters whenever its shape key is the same: (number of
// sequences, q, block-table stride). The stride
// also fixes the attention's context bound (stride * blockSize), which sets its split count,
// so the ops' launch parameters depend on the key only; per-step values (ids, positions,
// slots, context lengths, block tables) are read from fixed device buffers that the runner
// writes before each step. The first step of a key runs its ops directly, then records them;
// later steps of that key replay the recording.
import type { Backend, RecordedGraph } from '../backend/backend.js';
import type { ForwardBatch } from './forwardBatch.js';
import { rowSamplings, type BatchSampling, type PromptLogprobsRequest } from './sampling.js';

/** Smallest context bound a decode step is shaped for (keys per sequence). */
const MIN_DECODE_CONTEXT = 256;
/** Graphs kept at most (each a few hundred kernel nodes); keys past it run directly. */
const MAX_GRAPHS = 512;

/** True when the batch is a plain decode step: one new token per sequence, each sampled,
 *  no image tokens, no prompt logprobs. */
export function isDecodeStep(batch: ForwardBatch, promptLogprobs?: readonly (PromptLogprobsRequest | null)[]): boolean {
  return batch.tokenIds.length === batch.queryLens.length && uniformQueryLen(batch, null, promptLogprobs) === 1;
}

/** q when every sequence of the batch has q new tokens and every one of its rows is sampled
 *  (q = 1: one SeqSampling or a list of one; q > 1: a list of q, a verify step), with no image
 *  tokens and no prompt logprobs; else 0. `sampling` null checks only the batch's shape. */
export function uniformQueryLen(batch: ForwardBatch, sampling: BatchSampling | null, promptLogprobs?: readonly (PromptLogprobsRequest | null)[]): number {
  const n = batch.queryLens.length;
  if (n === 0 || batch.images.length > 0) return 0;
  if (promptLogprobs && !promptLogprobs.every((r) => r === null)) return 0;
  const q = batch.queryLens[0];
  if (q < 1 || batch.tokenIds.length !== n * q) return 0;
  for (let s = 0; s < n; s++) {
    if (batch.queryLens[s] !== q || batch.sampleMask[s] !== 1) return 0;
    if (sampling && rowSamplings(sampling[s]).length !== q) return 0;
  }
  return q;
}

/** The block-table stride a decode step is shaped for: the smallest power of two of blocks
 *  covering max(the longest context, MIN_DECODE_CONTEXT), at most `maxBlocksPerSeq`. */
export function decodeStride(batch: ForwardBatch, blockSize: number, maxBlocksPerSeq: number): number {
  let longest = MIN_DECODE_CONTEXT;
  for (const c of batch.contextLens) longest = Math.max(longest, c);
  const needed = Math.ceil(longest / blockSize);
  return Math.min(maxBlocksPerSeq, 2 ** Math.ceil(Math.log2(needed)));
}

/** The batch's block tables re-laid with `stride` entries per sequence (those past a row's
 *  blocks are -1; a row's context fits within `stride` blocks by decodeStride). */
export function restrideBlockTables(batch: ForwardBatch, stride: number): Int32Array {
  const n = batch.queryLens.length;
  const from = batch.maxBlocksPerSeq;
  const out = new Int32Array(n * stride).fill(-1);
  const copy = Math.min(from, stride);
  for (let s = 0; s < n; s++) out.set(batch.blockTables.subarray(s * from, s * from + copy), s * stride);
  return out;
}

export class DecodeGraphs {
  private readonly graphs = new Map<string, RecordedGraph>();
  private failed: string | null = null;

  constructor(private readonly backend: Backend) {}

  /** Whether this backend records graphs at all (and none failed to record). */
  get enabled(): boolean {
    return this.backend.captureGraph !== undefined && this.failed === null;
  }

  /** Why recording was given up, if it was. */
  get failure(): string | null {
    return this.failed;
  }

  get count(): number {
    return this.graphs.size;
  }

  /** Runs `forward` for a step of shape `key`: by replaying its graph when there is one, else
   *  directly (and then records it for the next step of that key). */
  run(key: string, forward: () => void): void {
    const have = this.graphs.get(key);
    if (have) {
      have.replay();
      return;
    }
    forward();
    if (!this.enabled || this.graphs.size >= MAX_GRAPHS) return;
    try {
      this.graphs.set(key, this.backend.captureGraph!(forward));
    } catch (err) {
      // Decoding stays correct without graphs: say why once and run every step directly.
      this.failed = err instanceof Error ? err.message : String(err);
      process.stderr.write(`tramontane: decode graphs disabled, recording failed: ${this.failed}\n`);
      this.dispose();
    }
  }

  dispose(): void {
    for (const g of this.graphs.values()) g.dispose();
    this.graphs.clear();
  }
}
