// Finds the image token spans in a prompt ([IMG] ... [IMG_BREAK] ... [IMG_END]) and checks
// them against the images given, in order.
import { findImageSpans as findSpans, type ImageSpan } from '../tokenizer/imageSpans.js';
import type { ModelConfig } from './config.js';
import type { EncoderImage } from './imagePatches.js';

export type PromptImageSpan = ImageSpan;

/** The image token spans of a prompt, with the model config's image token ids. */
export function findImageSpans(ids: readonly number[], cfg: ModelConfig): PromptImageSpan[] {
  return findSpans(ids, { img: cfg.imageTokenId, imgBreak: cfg.imageBreakTokenId, imgEnd: cfg.imageEndTokenId });
}

/** Pairs images with spans, in order, checking each span has the image's token layout. */
export function matchImagesToSpans(ids: readonly number[], images: readonly EncoderImage[], cfg: ModelConfig): PromptImageSpan[] {
  const spans = findImageSpans(ids, cfg);
  if (images.length > 0 && (!cfg.vision || !cfg.projector)) throw new Error('this checkpoint has no vision encoder: it cannot take images');
  if (spans.length !== images.length) {
    throw new Error(`the prompt has ${spans.length} image token run(s) ([IMG]...[IMG_END]) but ${images.length} image(s) were given`);
  }
  if (!cfg.vision || !cfg.projector) return spans;
  const px = cfg.vision.patchSize * cfg.projector.spatialMergeSize;
  spans.forEach((span, k) => {
    const img = images[k];
    const cols = img.width / px;
    const rows = img.height / px;
    for (let j = 0; j < span.length; j++) {
      const r = Math.floor(j / (cols + 1));
      const c = j % (cols + 1);
      const want = j === span.length - 1 ? cfg.imageEndTokenId : c === cols ? cfg.imageBreakTokenId : cfg.imageTokenId;
      if (span.length !== rows * (cols + 1) || ids[span.start + j] !== want || r >= rows) {
        throw new Error(
          `image ${k + 1} (${img.width}x${img.height} pixels, ${cols}x${rows} tokens) does not match its token run at prompt position ${span.start} (${span.length} tokens)`,
        );
      }
    }
  });
  return spans;
}
