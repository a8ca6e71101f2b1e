// Host-side planning of the vision encoder's input: each image's patch grid, where its patches
// start in the batch, and each patch's (row, col) for the 2D RoPE. The pixels themselves go to
// the backend as they are; its `patchify` op lays them out as patch rows.

/** An image ready for the vision encoder: normalised channel-first pixels and its size. */
export interface EncoderImage {
  /** Normalised pixels, channel-first [channels, height, width]. */
  readonly pixels: Float32Array;
  readonly height: number;
  readonly width: number;
}

export interface PatchPlan {
  readonly patchRows: Int32Array; // [numPatches]
  readonly patchCols: Int32Array; // [numPatches]
  /** [numImages + 1] prefix sums of patch counts; image i's pixels start at value
   *  patchStarts[i] * channels*patch*patch of the concatenated pixels. */
  readonly patchStarts: Int32Array;
  readonly gridRows: number[];
  readonly gridCols: number[];
}

export function planPatches(images: readonly EncoderImage[], patch: number, channels: number, multiple: number): PatchPlan {
  const gridRows: number[] = [];
  const gridCols: number[] = [];
  const patchStarts = new Int32Array(images.length + 1);
  images.forEach((img, i) => {
    if (img.height % multiple || img.width % multiple || img.height <= 0 || img.width <= 0) {
      throw new Error(`image ${i}: ${img.width}x${img.height} is not a positive multiple of ${multiple} pixels`);
    }
    if (img.pixels.length !== channels * img.height * img.width) {
      throw new Error(`image ${i}: ${img.pixels.length} values for ${channels}x${img.height}x${img.width}`);
    }
    gridRows.push(img.height / patch);
    gridCols.push(img.width / patch);
    patchStarts[i + 1] = patchStarts[i] + gridRows[i] * gridCols[i];
  });
  const total = patchStarts[images.length];
  const patchRows = new Int32Array(total);
  const patchCols = new Int32Array(total);
  images.forEach((_, i) => {
    for (let r = 0; r < gridRows[i]; r++) {
      const p = patchStarts[i] + r * gridCols[i];
      patchRows.fill(r, p, p + gridCols[i]);
      for (let c = 0; c < gridCols[i]; c++) patchCols[p + c] = c;
    }
  });
  return { patchRows, patchCols, patchStarts, gridRows, gridCols };
}
