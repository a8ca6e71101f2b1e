// The patch conv's input layout, shared by every backend's `patchify` (and by nothing else):
// image i's pixels [C, gridRows*P, gridCols*P] start at element patchStart_i * C*P*P of the
// concatenated pixels (an image of n patches holds exactly n*C*P*P values), and patch
// (r, c) of image i becomes row patchStart_i + r*gridCols + c, flattened (channel, y, x) like
// the conv weight [vHidden, C, P, P].
import type { DeviceTensor, ImageSpans } from './backend.js';
import { numel, rowsCols } from './tensorShape.js';

export interface PatchifyGeometry {
  readonly channels: number;
  /** C*P*P: the row width of the output. */
  readonly width: number;
  readonly numPatches: number;
}

/** Checks out [numPatches, C*P*P] and pixels [numPatches*C*P*P] against the spans' grids. */
export function patchifyGeometry(out: DeviceTensor, pixels: DeviceTensor, spans: ImageSpans, patch: number): PatchifyGeometry {
  if (!Number.isInteger(patch) || patch <= 0) throw new Error(`patchify: patch size ${patch} is not a positive integer`);
  if (spans.gridRows.length !== spans.gridCols.length) {
    throw new Error(`patchify: ${spans.gridRows.length} grid row counts but ${spans.gridCols.length} grid column counts`);
  }
  const [rows, width] = rowsCols(out);
  const channels = width / (patch * patch);
  if (!Number.isInteger(channels) || channels <= 0) throw new Error(`patchify: out [${out.shape.join(', ')}] rows are not C x ${patch} x ${patch}`);
  const numPatches = spans.gridRows.reduce((n, r, i) => n + r * spans.gridCols[i], 0);
  if (rows !== numPatches) throw new Error(`patchify: out [${out.shape.join(', ')}] has ${rows} rows, the images have ${numPatches} patches`);
  const have = numel(pixels.shape);
  if (have !== numPatches * width) {
    throw new Error(`patchify: pixels [${pixels.shape.join(', ')}] hold ${have} values, the images need ${numPatches * width} (${channels} x their pixels)`);
  }
  return { channels, width, numPatches };
}

/** The host reference: dst [numPatches, C*P*P] from the concatenated pixels src (f32). */
export function patchifyF32(
  dst: Float32Array,
  src: Float32Array,
  gridRows: readonly number[],
  gridCols: readonly number[],
  patch: number,
  channels: number,
): void {
  const width = channels * patch * patch;
  let p = 0; // first patch (and output row) of the image
  for (let i = 0; i < gridRows.length; i++) {
    const imgWidth = gridCols[i] * patch;
    const plane = gridRows[i] * patch * imgWidth;
    const base = p * width; // first pixel value of the image
    for (let r = 0; r < gridRows[i]; r++) {
      for (let c = 0; c < gridCols[i]; c++, p++) {
        let o = p * width;
        for (let ch = 0; ch < channels; ch++) {
          for (let y = 0; y < patch; y++) {
            const s = base + ch * plane + (r * patch + y) * imgWidth + c * patch;
            for (let x = 0; x < patch; x++) dst[o + x] = src[s + x];
            o += patch;
          }
        }
      }
    }
  }
}
