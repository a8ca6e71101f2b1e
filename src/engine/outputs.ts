// vLLM's RequestOutput / CompletionOutput, camelCase. Logprobs per position are a list whose
// first entry is the chosen token, then the top alternatives (vLLM uses a dict keyed by id;
// a list keeps the order).
import type { FinishReason } from './request.js';

/** One token's log-probability at a position, with its rank and decoded text. */
export interface TokenLogprob {
  readonly tokenId: number;
  readonly logprob: number;
  /** 1 = most likely. */
  readonly rank: number;
  readonly decodedToken: string;
}

/** The logprobs at one position: the chosen token first, then the top K. */
export type PositionLogprobs = readonly TokenLogprob[];

/** vLLM's CompletionOutput: one generated sequence's text, token ids, logprobs and finish reason. */
export interface CompletionOutput {
  readonly index: number;
  readonly text: string;
  readonly tokenIds: readonly number[];
  /** Sum of the sampled tokens' logprobs; null unless logprobs were requested. */
  readonly cumulativeLogprob: number | null;
  readonly logprobs: readonly PositionLogprobs[] | null;
  /** null while running. */
  readonly finishReason: FinishReason | null;
  /** The stop string or stop token id that ended it (null for EOS and length). */
  readonly stopReason: string | number | null;
}

/** vLLM's RequestOutput: one prompt's token ids, prompt logprobs and its completions. */
export interface RequestOutput {
  readonly requestId: string;
  /** The text prompt when given as text. */
  readonly prompt: string | null;
  readonly promptTokenIds: readonly number[];
  /** null unless requested; then null for position 0 and the logprobs of each later token. */
  readonly promptLogprobs: readonly (PositionLogprobs | null)[] | null;
  readonly outputs: readonly CompletionOutput[];
  readonly finished: boolean;
  /** Prompt tokens served from the prefix cache. */
  readonly numCachedTokens: number;
}
