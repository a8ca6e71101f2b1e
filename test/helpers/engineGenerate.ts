// One request through the Engine (the same path as LLM, the server and `tramontane generate`)
// over a ModelRunner the test built, returning token ids and the runner's logprobs in the
// model layer's shape (TokenLogprobs: chosen token, rank, top alternatives) for the model tests.
// A fresh Engine per call: no prefix cache is shared between calls.
import { Engine, type EngineImage } from '../../src/engine/engine.js';
import type { PositionLogprobs } from '../../src/engine/outputs.js';
import { resolveSamplingParams } from '../../src/engine/samplingParams.js';
import type { EngineTokenizer } from '../../src/engine/tokenizerPort.js';
import type { ModelConfig } from '../../src/model/config.js';
import type { EncoderImage } from '../../src/model/imagePatches.js';
import type { ModelRunner } from '../../src/model/runner.js';
import type { TokenLogprobs } from '../../src/model/sampling.js';
import { findImageSpans } from '../../src/tokenizer/imageSpans.js';

/** `</s>` of the Tekken v7 vocabulary every test checkpoint uses. */
export const TEKKEN_EOS_ID = 2;

export interface GenerateOptions {
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly minP?: number;
  readonly seed?: number;
  /** Alternatives per sampled token (absent: no logprobs). */
  readonly logprobs?: number;
  /** Alternatives per prompt position (absent: no prompt logprobs). */
  readonly promptLogprobs?: number;
  readonly stopTokenIds?: readonly number[];
  readonly ignoreEos?: boolean;
}

export interface GenerateResult {
  readonly promptTokenIds: number[];
  /** Per prompt position: null for position 0, then the scored token's logprobs. */
  readonly promptLogprobs: (TokenLogprobs | null)[] | null;
  readonly tokenIds: number[];
  readonly logprobs: TokenLogprobs[] | null;
  readonly finishReason: 'stop' | 'length' | 'abort';
}

/** Ids only: the engine's text is not looked at here. */
function idTokenizer(vocabSize: number): EngineTokenizer {
  return {
    bosId: 1,
    eosId: TEKKEN_EOS_ID,
    vocabSize,
    encode: () => {
      throw new Error('token prompts only');
    },
    decode: () => '',
    tokenText: (id) => String(id),
    newDetokenizer: () => ({ push: () => '', flush: () => '' }),
  };
}

/** The engine lists the chosen token first, then the top k without it (ranks kept): put it
 *  back in the slot its absence left, as the runner returned the list. */
function toTokenLogprobs(position: PositionLogprobs, k: number): TokenLogprobs {
  const [chosen, ...others] = position;
  const top: (readonly [number, number])[] = others.map((e) => [e.tokenId, e.logprob] as const);
  if (top.length < k && chosen.rank <= k) {
    const missing = others.findIndex((e, i) => e.rank !== i + 1);
    top.splice(missing === -1 ? top.length : missing, 0, [chosen.tokenId, chosen.logprob]);
  }
  return { logprob: chosen.logprob, rank: chosen.rank, top };
}

export async function generate(
  runner: ModelRunner,
  cfg: ModelConfig,
  promptIds: readonly number[],
  images: readonly EncoderImage[],
  o: GenerateOptions,
): Promise<GenerateResult> {
  const spans = findImageSpans(promptIds, { img: cfg.imageTokenId, imgBreak: cfg.imageBreakTokenId, imgEnd: cfg.imageEndTokenId });
  if (spans.length !== images.length) throw new Error(`the prompt has ${spans.length} image token run(s) but ${images.length} image(s) were given`);
  const engineImages: EngineImage[] = images.map((img, k) => ({ pixels: img.pixels, height: img.height, width: img.width, spanStart: spans[k].start, spanLength: spans[k].length }));
  const engine = new Engine(runner, idTokenizer(runner.limits.vocabSize), { enablePrefixCaching: false });
  const params = resolveSamplingParams({
    maxTokens: o.maxTokens,
    temperature: o.temperature ?? 1,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    minP: o.minP ?? 0,
    seed: o.seed ?? null,
    logprobs: o.logprobs ?? null,
    promptLogprobs: o.promptLogprobs ?? null,
    stopTokenIds: o.stopTokenIds ?? [],
    ignoreEos: o.ignoreEos ?? false,
  });
  const out = await engine.result(engine.add({ promptTokenIds: promptIds, images: engineImages }, params));
  const seq = out.outputs[0];
  return {
    promptTokenIds: [...out.promptTokenIds],
    promptLogprobs: out.promptLogprobs ? out.promptLogprobs.map((p) => (p === null ? null : toTokenLogprobs(p, params.promptLogprobs ?? 0))) : null,
    tokenIds: [...seq.tokenIds],
    logprobs: seq.logprobs ? seq.logprobs.map((p) => toTokenLogprobs(p, params.logprobs ?? 0)) : null,
    finishReason: seq.finishReason ?? 'abort',
  };
}
