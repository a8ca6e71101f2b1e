// A minimal single-request generation loop over a ModelRunner: chunked prefill, then decode
// one token a step, stopping at EOS, a stop id or max tokens. The engine's scheduler replaces
// this for serving; it backs `tramontane generate` and the model tests.
import type { ModelConfig } from './config.js';
import type { BatchImage, ForwardBatch } from './forwardBatch.js';
import type { EncoderImage } from './imagePatches.js';
import { matchImagesToSpans } from './imageSpans.js';
import type { ModelRunner } from './runner.js';
import type { PromptLogprobsRequest, SeqSampling, TokenLogprobs } from './sampling.js';

export interface GenerateOptions {
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly minP?: number;
  readonly seed?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
  readonly repetitionPenalty?: number;
  /** Alternatives per sampled token (-1 or absent: no logprobs). */
  readonly logprobs?: number;
  /** Alternatives per prompt position (-1 or absent: no prompt logprobs). */
  readonly promptLogprobs?: number;
  readonly eosTokenId?: number;
  readonly stopTokenIds?: readonly number[];
  readonly ignoreEos?: boolean;
  /** Called with each new token as soon as it is sampled. */
  readonly onToken?: (tokenId: number) => void;
}

export interface GenerateResult {
  readonly promptTokenIds: number[];
  /** Per prompt position: null for position 0, then the scored token's logprobs. */
  readonly promptLogprobs: (TokenLogprobs | null)[] | null;
  readonly tokenIds: number[];
  readonly logprobs: TokenLogprobs[] | null;
  readonly finishReason: 'stop' | 'length';
}

export async function generate(
  runner: ModelRunner,
  cfg: ModelConfig,
  promptIds: readonly number[],
  images: readonly EncoderImage[],
  o: GenerateOptions,
): Promise<GenerateResult> {
  const maxLen = runner.limits.maxModelLen;
  if (promptIds.length === 0) throw new Error('the prompt is empty');
  if (promptIds.length >= maxLen) {
    throw new Error(`the prompt has ${promptIds.length} tokens; the context holds ${maxLen} (prompt plus at least one generated token)`);
  }
  if (!Number.isInteger(o.maxTokens) || o.maxTokens <= 0) throw new Error(`max tokens must be a positive integer (got ${o.maxTokens})`);
  for (const id of promptIds) {
    if (!(Number.isInteger(id) && id >= 0 && id < runner.limits.vocabSize)) throw new Error(`prompt token id ${id} is outside the vocabulary of ${runner.limits.vocabSize}`);
  }
  const spans = matchImagesToSpans(promptIds, images, cfg);
  const { blockSize, numBlocks } = runner.kvCache;
  const maxBlocks = Math.ceil(maxLen / blockSize);
  if (maxBlocks > numBlocks) throw new Error(`the KV cache (${numBlocks} blocks) cannot hold a sequence of ${maxLen} tokens`);
  const blockTable = Int32Array.from({ length: maxBlocks }, (_, i) => i);
  const budget = Math.min(o.maxTokens, maxLen - promptIds.length);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const output: number[] = [];
  const logprobs: TokenLogprobs[] = [];
  const promptLp: (TokenLogprobs | null)[] = [null];
  const numLogprobs = o.logprobs ?? -1;
  const stop = new Set(o.stopTokenIds ?? []);
  const params = (step: number): SeqSampling => ({
    temperature: o.temperature ?? 1,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    minP: o.minP ?? 0,
    seed,
    step,
    presencePenalty: o.presencePenalty ?? 0,
    frequencyPenalty: o.frequencyPenalty ?? 0,
    repetitionPenalty: o.repetitionPenalty ?? 1,
    promptTokenIds: promptIds,
    outputTokenIds: output,
    logitBias: null,
    bannedTokenIds: [],
    numLogprobs,
  });
  const step = async (from: number, tokens: readonly number[], last: boolean, wantPrompt: boolean) => {
    const n = tokens.length;
    const batch: ForwardBatch = {
      tokenIds: Int32Array.from(tokens),
      positions: Int32Array.from({ length: n }, (_, j) => from + j),
      queryLens: Int32Array.of(n),
      contextLens: Int32Array.of(from + n),
      slotMapping: Int32Array.from({ length: n }, (_, j) => from + j), // blocks 0.. in order
      blockTables: blockTable,
      maxBlocksPerSeq: maxBlocks,
      images: imagesIn(from, n),
      sampleMask: Uint8Array.of(last ? 1 : 0),
    };
    const targets: PromptLogprobsRequest | null = wantPrompt
      ? { numLogprobs: o.promptLogprobs ?? 0, targetTokenIds: Int32Array.from({ length: n }, (_, j) => (from + j + 1 < promptIds.length ? promptIds[from + j + 1] : -1)) }
      : null;
    return runner.execute(batch, [last ? params(output.length) : null], [targets]);
  };
  const imagesIn = (from: number, n: number): BatchImage[] =>
    spans.flatMap((span, k) => {
      const lo = Math.max(from, span.start);
      const hi = Math.min(from + n, span.start + span.length);
      if (lo >= hi) return [];
      const img = images[k];
      return [{ key: `image-${k}`, pixels: img.pixels, height: img.height, width: img.width, batchStart: lo - from, length: hi - lo, spanOffset: lo - span.start }];
    });
  const accept = (tokenId: number, lp: TokenLogprobs | null): boolean => {
    output.push(tokenId);
    if (lp) logprobs.push(lp);
    o.onToken?.(tokenId);
    return (!o.ignoreEos && tokenId === (o.eosTokenId ?? 2)) || stop.has(tokenId);
  };
  // Prefill in chunks of at most maxNumBatchedTokens.
  const chunk = runner.limits.maxNumBatchedTokens;
  let stopped = false;
  for (let from = 0; from < promptIds.length; from += chunk) {
    const tokens = promptIds.slice(from, from + chunk);
    const last = from + tokens.length === promptIds.length;
    const res = await step(from, tokens, last, (o.promptLogprobs ?? -1) >= 0);
    const pl = res.promptLogprobs[0];
    if (pl) promptLp.push(...pl.entries);
    const s = res.sampled[0];
    if (last && s) stopped = accept(s.tokenId, s.logprobs);
  }
  while (!stopped && output.length < budget) {
    const pos = promptIds.length + output.length - 1;
    const res = await step(pos, [output[output.length - 1]], true, false);
    const s = res.sampled[0];
    if (!s) throw new Error('the runner sampled nothing for a decode step');
    stopped = accept(s.tokenId, s.logprobs);
  }
  return {
    promptTokenIds: [...promptIds],
    promptLogprobs: (o.promptLogprobs ?? -1) >= 0 ? promptLp : null,
    tokenIds: output,
    logprobs: numLogprobs >= 0 ? logprobs : null,
    finishReason: stopped ? 'stop' : 'length',
  };
}
