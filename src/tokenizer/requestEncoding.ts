// mistral_common request encoding (docs/tokenizer.md#prompts): content chunks, image token layout, and the
// base-model user content (no BOS, no [INST]).
import type { Tekkenizer } from './tekkenizer.js';

/** A text chunk of user content. */
export interface TextChunk {
  readonly type: 'text';
  readonly text: string;
}

/** An image, already sized: widthTokens x heightTokens merged tokens (docs/images.md#size-rule, step 3). */
export interface ImageChunk {
  readonly type: 'image';
  readonly widthTokens: number;
  readonly heightTokens: number;
}

/** A chunk of user content: text or an image. */
export type ContentChunk<I extends ImageChunk = ImageChunk> = TextChunk | I;

/** Ids of a prompt, and its image chunks in the order their tokens appear. */
export interface EncodedPrompt<I extends ImageChunk = ImageChunk> {
  readonly ids: number[];
  readonly images: I[];
}

/** The ids of [IMG], [IMG_BREAK] and [IMG_END]. */
export interface ImageTokenIds {
  readonly img: number;
  readonly imgBreak: number;
  readonly imgEnd: number;
}

/** The v7 ids of [IMG], [IMG_BREAK], [IMG_END]. */
export const DEFAULT_IMAGE_TOKEN_IDS: ImageTokenIds = { img: 10, imgBreak: 12, imgEnd: 13 };

/**
 * Token layout of one image: `([IMG] * widthTokens + [IMG_BREAK]) * heightTokens`, with the very
 * last token replaced by [IMG_END]. Length (widthTokens + 1) * heightTokens.
 */
export function imageTokenIds(widthTokens: number, heightTokens: number, ids: ImageTokenIds = DEFAULT_IMAGE_TOKEN_IDS): number[] {
  for (const [name, v] of [['widthTokens', widthTokens], ['heightTokens', heightTokens]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`image ${name} must be a positive integer, got ${v}`);
  }
  const out = new Array<number>((widthTokens + 1) * heightTokens);
  let at = 0;
  for (let row = 0; row < heightTokens; row++) {
    for (let col = 0; col < widthTokens; col++) out[at++] = ids.img;
    out[at++] = ids.imgBreak;
  }
  out[out.length - 1] = ids.imgEnd;
  return out;
}

export function imageTokenIdsOf(tokenizer: Tekkenizer): ImageTokenIds {
  return { img: tokenizer.imgId, imgBreak: tokenizer.imgBreakId, imgEnd: tokenizer.imgEndId };
}

/** Appends the ids of `chunks`, in order, to `out`; images go to `images`. */
export function encodeChunksInto<I extends ImageChunk>(
  tokenizer: Tekkenizer,
  chunks: readonly ContentChunk<I>[],
  out: number[],
  images: I[],
): void {
  let imageIds: ImageTokenIds | undefined;
  chunks.forEach((chunk, i) => {
    if (chunk.type === 'text') {
      if (typeof chunk.text !== 'string') throw new TypeError(`content chunk ${i}: text must be a string`);
      tokenizer.encodeInto(chunk.text, out);
    } else if (chunk.type === 'image') {
      imageIds ??= imageTokenIdsOf(tokenizer);
      for (const id of imageTokenIds(chunk.widthTokens, chunk.heightTokens, imageIds)) out.push(id);
      images.push(chunk);
    } else {
      throw new TypeError(`content chunk ${i}: unknown type ${JSON.stringify((chunk as { type: unknown }).type)}`);
    }
  });
}

/**
 * Base-model prompt (mistral_common `encode_user_content`, as the model card uses it): the chunks
 * in the order given, no BOS, no [INST].
 */
export function encodeUserContent<I extends ImageChunk>(tokenizer: Tekkenizer, content: string | readonly ContentChunk<I>[]): EncodedPrompt<I> {
  const ids: number[] = [];
  const images: I[] = [];
  if (typeof content === 'string') tokenizer.encodeInto(content, ids);
  else encodeChunksInto(tokenizer, content, ids, images);
  return { ids, images };
}
