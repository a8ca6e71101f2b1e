// What a backend's sampler takes and gives, per sequence: the sampling parameters of one
// draw, and the sampled token with its logprobs. Sampling runs beside the model (on the GPU for
// the CUDA backend) so only ids and the requested logprobs cross back to the host.

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
