import type { ForwardBatch } from './forwardBatch.js';
import type { BatchSampling, PromptLogprobsRequest, StepOutput } from './sampling.js';

/** Geometry of the paged KV cache a runner owns; the engine's block manager hands out
 *  these block ids and never touches the memory. */
export interface KvCacheGeometry {
  readonly numBlocks: number;
  /** Tokens per block. */
  readonly blockSize: number;
  /** Device bytes the cache occupies (K and V, all layers), where the runner knows it. */
  readonly bytes?: number;
}

export interface RunnerLimits {
  /** Longest sequence (prompt + output) the model accepts. */
  readonly maxModelLen: number;
  readonly vocabSize: number;
  /** Most tokens one ForwardBatch may carry (the per-step workspace is sized for it). */
  readonly maxNumBatchedTokens: number;
  /** Most sequences one ForwardBatch may carry. */
  readonly maxNumSeqs: number;
}

/** The model on a backend, as the engine sees it. */
export interface ModelRunner {
  readonly kvCache: KvCacheGeometry;
  readonly limits: RunnerLimits;
  /**
   * Runs one step: writes the new tokens' K/V into the cache at batch.slotMapping, and for each
   * sequence with sampleMask 1 samples its next token per `sampling`.
   * `promptLogprobs[i]`, when given and not null, asks for the logprobs of the prompt tokens
   * that sequence i's rows in this step predict.
   */
  execute(
    batch: ForwardBatch,
    sampling: BatchSampling,
    promptLogprobs?: readonly (PromptLogprobsRequest | null)[],
  ): Promise<StepOutput>;
  /** Frees every device resource. */
  close(): Promise<void>;
}
