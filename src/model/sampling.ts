// What the model runner needs to turn logits into tokens, per sequence of a ForwardBatch.
// Sampling runs beside the model (on the GPU for the CUDA backend) so only ids and the
// requested logprobs cross back to the host.

export interface SeqSampling {
  /** 0 means greedy (argmax). */
  readonly temperature: number;
  /** 0 or -1 means no top-k. */
  readonly topK: number;
  /** 1 means no top-p. */
  readonly topP: number;
  /** 0 means no min-p. */
  readonly minP: number;
  /** Seed of this sequence's generator; the runner derives the draw for output position
   *  `step` from (seed, step) so a seeded request is reproducible whatever it is batched with. */
  readonly seed: number;
  /** Index of the token being sampled among the request's output tokens. */
  readonly step: number;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  readonly repetitionPenalty: number;
  /** Token ids of the prompt (for the repetition penalty) and of the output so far. */
  readonly promptTokenIds: readonly number[];
  readonly outputTokenIds: readonly number[];
  /** token id -> bias added to its logit before everything else. */
  readonly logitBias: ReadonlyMap<number, number> | null;
  /** Ids that may not be sampled this step (EOS and stop ids while under minTokens). */
  readonly bannedTokenIds: readonly number[];
  /** How many top alternatives to return with their logprobs (0: only the sampled token's). */
  readonly numLogprobs: number;
}

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

export interface TokenLogprobs {
  /** The logprob of the chosen (sampled or given) token, from the raw model distribution
   *  (log_softmax of the logits before temperature and filtering, as vLLM reports). */
  readonly logprob: number;
  /** Rank of the chosen token in that distribution, 1 = most likely. */
  readonly rank: number;
  /** The top alternatives, most likely first: [tokenId, logprob]. */
  readonly top: readonly (readonly [number, number])[];
}

export interface SampledToken {
  readonly tokenId: number;
  /** Present when the sequence asked for logprobs (numLogprobs >= 0 requested). */
  readonly logprobs: TokenLogprobs | null;
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
