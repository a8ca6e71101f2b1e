// Prompts as the offline API takes them (vLLM's forms) and their conversion into engine inputs:
// a string gets BOS prepended (vLLM with tokenizer_mode "mistral"); a TokensPrompt is used as
// given and its images fill the prompt's [IMG] spans in order.
import type { EngineImage, EngineInput } from './engine.js';
import { InvalidRequestError } from './errors.js';
import { findImageSpans as findSpans, UnterminatedImageSpanError, type ImageSpan } from '../tokenizer/imageSpans.js';
import type { ImageTokenIds } from '../tokenizer/requestEncoding.js';
import type { EngineTokenizer } from './tokenizerPort.js';
import type { ImageEncodeOptions } from '../image/index.js';

/** Where an image comes from: a path, a file:, http(s): or data: URL, or encoded bytes. */
export type ImageSource = string | URL | Uint8Array;

/** An image already preprocessed (ImageEncoder.encode's result, or encodeUserContent's). */
export interface PreparedImage {
  /** Its token span: ([IMG] * w + [IMG_BREAK]) * h with the last one [IMG_END]. */
  readonly tokens: readonly number[];
  /** [3, height, width] normalised, channel-first. */
  readonly pixels: Float32Array;
  readonly height: number;
  readonly width: number;
}

export interface ImagePreprocessor {
  /** `options`: the server's policy, cancel signal and budgets (the offline API passes none). */
  encode(source: ImageSource, options?: ImageEncodeOptions): Promise<PreparedImage>;
}

export type ImageItem = ImageSource | PreparedImage;

/** vLLM's TextPrompt: text, tokenised with BOS. */
export interface TextPrompt {
  readonly prompt: string;
}

/** vLLM's TokensPrompt: token ids used as given; images fill their [IMG] spans in order. */
export interface TokensPrompt {
  readonly promptTokenIds: readonly number[];
  readonly multiModalData?: { readonly image?: ImageItem | readonly ImageItem[] };
}

/** A prompt: text (BOS added), a TextPrompt, or token ids with images (TokensPrompt). */
export type PromptInput = string | TextPrompt | TokensPrompt;

export type { ImageTokenIds };

export function isPreparedImage(x: unknown): x is PreparedImage {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !(x instanceof URL) && (x as PreparedImage).pixels instanceof Float32Array;
}

/** The [IMG]...[IMG_END] spans of a prompt, in order; a run without [IMG_END] is the client's error. */
export function findImageSpans(ids: readonly number[], t: ImageTokenIds): ImageSpan[] {
  try {
    return findSpans(ids, t);
  } catch (err) {
    if (!(err instanceof UnterminatedImageSpanError)) throw err;
    throw new InvalidRequestError(`the image tokens starting at position ${err.position} of the prompt are not ended by [IMG_END]`, 'promptTokenIds');
  }
}

/** Turns one prompt into an engine input, loading and preprocessing its images. */
export async function preparePrompt(
  input: PromptInput,
  tokenizer: EngineTokenizer,
  imageIds: ImageTokenIds,
  images: ImagePreprocessor | null,
): Promise<EngineInput> {
  if (typeof input === 'string') return { prompt: input, promptTokenIds: tokenizer.encode(input, { bos: true, eos: false }) };
  if (input === null || typeof input !== 'object') throw new InvalidRequestError('a prompt must be a string, { prompt } or { promptTokenIds }', 'prompt');
  if ('prompt' in input) {
    if (typeof input.prompt !== 'string') throw new InvalidRequestError('prompt must be a string', 'prompt');
    if ('multiModalData' in input) {
      throw new InvalidRequestError('images go with token prompts: build one with getTokenizer().encodeUserContent([...])', 'multiModalData');
    }
    return { prompt: input.prompt, promptTokenIds: tokenizer.encode(input.prompt, { bos: true, eos: false }) };
  }
  const ids = input.promptTokenIds;
  if (!Array.isArray(ids)) throw new InvalidRequestError('promptTokenIds must be a list of token ids', 'promptTokenIds');
  const raw = input.multiModalData?.image;
  const items: readonly ImageItem[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw as ImageItem];
  const spans = findImageSpans(ids, imageIds);
  if (spans.length !== items.length) {
    throw new InvalidRequestError(`the prompt has ${spans.length} image placeholder span(s) but ${items.length} image(s) were given`, 'multiModalData.image');
  }
  if (items.length > 0 && !images) throw new InvalidRequestError('this model takes no images', 'multiModalData.image');
  const prepared = await Promise.all(items.map((item) => (isPreparedImage(item) ? item : images!.encode(item))));
  const out: EngineImage[] = prepared.map((img, k) => {
    const span = spans[k];
    const same = img.tokens.length === span.length && img.tokens.every((t, i) => ids[span.start + i] === t);
    if (!same) {
      throw new InvalidRequestError(
        `image ${k} needs a span of ${img.tokens.length} image tokens but its placeholder at position ${span.start} has ${span.length} (or a different layout)`,
        'multiModalData.image',
      );
    }
    return { pixels: img.pixels, height: img.height, width: img.width, spanStart: span.start, spanLength: span.length };
  });
  return { promptTokenIds: [...ids], images: out };
}
