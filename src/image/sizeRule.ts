// mistral_common's ImageEncoder size rule and image token layout (docs/images.md, size rule and token layout).

/** An image's size in tokens and in pixels after resizing. */
export interface TokenGrid {
  /** Merged tokens per row (W_tok) and per column (H_tok). */
  widthTokens: number;
  heightTokens: number;
  /** Size of the resized image in pixels: tokens * patchSize * spatialMergeSize. */
  width: number;
  height: number;
}

/** Python's round() on a double: nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Token grid for an image of `width` x `height` pixels. Downscales (never up) so the longest
 * side fits `maxImageSize`, with the same double arithmetic as the reference:
 * ratio = max(h / max, w / max); side = round(side / ratio).
 */
export function tokenGrid(
  width: number,
  height: number,
  patchSize: number,
  maxImageSize: number,
  spatialMergeSize: number,
): TokenGrid {
  let w = width;
  let h = height;
  const ratio = Math.max(h / maxImageSize, w / maxImageSize);
  if (ratio > 1) {
    // mistral_common: an extreme aspect ratio would otherwise round the shorter side to 0 pixels.
    w = Math.max(roundHalfEven(w / ratio), 1);
    h = Math.max(roundHalfEven(h / ratio), 1);
  }
  const tokenSide = patchSize * spatialMergeSize;
  // Python's // floors; w, h >= 0 so (w - 1) // t floors toward -inf for w = 0 as well.
  const widthTokens = Math.floor((w - 1) / tokenSide) + 1;
  const heightTokens = Math.floor((h - 1) / tokenSide) + 1;
  return { widthTokens, heightTokens, width: widthTokens * tokenSide, height: heightTokens * tokenSide };
}
