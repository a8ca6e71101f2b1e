// The inverse of imageTokenIds(): where the image token spans ([IMG] ... [IMG_BREAK] ... [IMG_END])
// of a prompt lie. Every caller that pairs images with a prompt's placeholders uses this one scan.
import type { ImageTokenIds } from './requestEncoding.js';

export interface ImageSpan {
  readonly start: number; // index of the span's first token in the prompt
  readonly length: number; // tokens in the span, [IMG_END] included
}

/** A run of [IMG]/[IMG_BREAK] tokens that [IMG_END] does not close. */
export class UnterminatedImageSpanError extends Error {
  constructor(
    /** Prompt index of the run's first token. */
    readonly position: number,
    readonly imgEndId: number,
  ) {
    super(`image tokens starting at prompt position ${position} do not end with [IMG_END] (${imgEndId})`);
    this.name = 'UnterminatedImageSpanError';
  }
}

/** Spans of consecutive image tokens, in prompt order; each ends at the first [IMG_END]. */
export function findImageSpans(ids: readonly number[], t: ImageTokenIds): ImageSpan[] {
  const spans: ImageSpan[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id !== t.img && id !== t.imgBreak && id !== t.imgEnd) continue;
    let j = i;
    while (j < ids.length && (ids[j] === t.img || ids[j] === t.imgBreak)) j++;
    if (j >= ids.length || ids[j] !== t.imgEnd) throw new UnterminatedImageSpanError(i, t.imgEnd);
    spans.push({ start: i, length: j + 1 - i });
    i = j;
  }
  return spans;
}
