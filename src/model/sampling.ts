// What the model runner needs to turn logits into tokens, per sequence of a ForwardBatch.
// Sampling runs beside the model (on the GPU for the CUDA backend) so only ids and the
// requested logprobs cross back to the host.
import type { SampledToken, SeqSampling, TokenLogprobs } from '../backend/sampling/types.js';

export type { SampledToken, SeqSampling, TokenLogprobs };

/** Per sequence of a batch: null for sequences whose sampleMask is 0; one SeqSampling to
 *  sample its last row; or a list to sample its last list.length rows, row j of them with
 *  list[j] (a speculative verify step: k draft rows + 1, each with its own step, output
 *  history and bans). */
export type BatchSampling = readonly (SeqSampling | readonly SeqSampling[] | null)[];

/** The rows' sampling of one BatchSampling entry, last row last ([] for null). */
export function rowSamplings(entry: SeqSampling | readonly SeqSampling[] | null | undefined): readonly SeqSampling[] {
  if (!entry) return [];
  return Array.isArray(entry) ? (entry as readonly SeqSampling[]) : [entry as SeqSampling];
}

/** Prompt logprobs wanted from one sequence's rows in a step. Row j (position p) predicts the
 *  token at position p + 1. */
export interface PromptLogprobsRequest {
  /** Top alternatives per position (0: only the actual token's logprob). */
  readonly numLogprobs: number;
  /** [queryLen] the prompt token that row j predicts; -1 where it predicts past the prompt. */
  readonly targetTokenIds: Int32Array;
}

/** Prompt logprobs for the prompt tokens of one sequence computed in this step. */
export interface PromptLogprobsChunk {
  /** Position in the prompt of the first token scored here (>= 1: position 0 has none). */
  readonly firstPosition: number;
  readonly entries: readonly TokenLogprobs[];
}

export interface StepOutput {
  /** Per sequence: the sampled token (of its last row), or null where sampleMask was 0. */
  readonly sampled: readonly (SampledToken | null)[];
  /** Per sequence whose sampling was a list: one token per sampled row, in row order (null for
   *  the others). Absent when no sequence asked for several rows. */
  readonly sampledRows?: readonly (readonly SampledToken[] | null)[];
  /** Per sequence: prompt logprobs when asked for, else null. */
  readonly promptLogprobs: readonly (PromptLogprobsChunk | null)[];
}
