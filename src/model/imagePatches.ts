// Host-side preparation of images for the vision encoder: pixels -> flattened patches (the
// patch conv as a matmul) and each patch's (row, col) for the 2D RoPE.

export interface EncoderImage {
  /** Normalised pixels, channel-first [channels, height, width]. */
  readonly pixels: Float32Array;
  readonly height: number;
  readonly width: number;
}

export interface PatchBatch {
  /** [numPatches, channels*patch*patch], each patch flattened (channel, y, x) like the conv weight. */
  readonly patches: Float32Array;
  readonly patchRows: Int32Array; // [numPatches]
  readonly patchCols: Int32Array; // [numPatches]
  /** [numImages + 1] prefix sums of patch counts. */
  readonly patchStarts: Int32Array;
  readonly gridRows: number[];
  readonly gridCols: number[];
}

export function extractPatches(images: readonly EncoderImage[], patch: number, channels: number, multiple: number): PatchBatch {
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
  const width = channels * patch * patch;
  const patches = new Float32Array(total * width);
  const patchRows = new Int32Array(total);
  const patchCols = new Int32Array(total);
  images.forEach((img, i) => {
    const plane = img.height * img.width;
    for (let r = 0; r < gridRows[i]; r++) {
      for (let c = 0; c < gridCols[i]; c++) {
        const p = patchStarts[i] + r * gridCols[i] + c;
        patchRows[p] = r;
        patchCols[p] = c;
        let o = p * width;
        for (let ch = 0; ch < channels; ch++) {
          for (let y = 0; y < patch; y++) {
            const src = ch * plane + (r * patch + y) * img.width + c * patch;
            for (let x = 0; x < patch; x++) patches[o + x] = img.pixels[src + x];
            o += patch;
          }
        }
      }
    }
  });
  return { patches, patchRows, patchCols, patchStarts, gridRows, gridCols };
}
