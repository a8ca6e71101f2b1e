// Cubic resize fused with mistral_common's normalisation: x / 255, then (x - mean) / std per
// channel, written channel-first. The reference computes float32(x / 255) then float64 for the
// rest; we use x * (1 / (255 std)) - mean / std in double, within 1e-7 of it.
import { cubicResizeBands, type CubicArithmetic } from './cubicResize.js';

/** CLIP's per-channel mean (RGB), subtracted from pixels in [0, 1]. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const; // RGB
/** CLIP's per-channel standard deviation (RGB), dividing the centred pixels. */
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const; // RGB

export interface ResizeJob {
  src: Uint8Array; // [srcHeight, srcWidth, 3]
  srcWidth: number;
  srcHeight: number;
  dstWidth: number;
  dstHeight: number;
  arithmetic: CubicArithmetic;
  /** `src` starts at this source row (a band of the image); 0 for the whole image. */
  srcRowOffset?: number;
}

/** Fills rows [rowStart, rowEnd) of `out` ([3, dstHeight, dstWidth]) with normalised pixels. */
export function resizeNormalizeRows(job: ResizeJob, out: Float32Array, rowStart: number, rowEnd: number): void {
  const { src, srcWidth, srcHeight, dstWidth, dstHeight } = job;
  const plane = dstWidth * dstHeight;
  const k0 = 1 / (255 * CLIP_STD[0]), k1 = 1 / (255 * CLIP_STD[1]), k2 = 1 / (255 * CLIP_STD[2]);
  const o0 = CLIP_MEAN[0] / CLIP_STD[0], o1 = CLIP_MEAN[1] / CLIP_STD[1], o2 = CLIP_MEAN[2] / CLIP_STD[2];
  if (srcWidth === dstWidth && srcHeight === dstHeight) {
    // cv::resize copies at equal size: normalise the bytes through a table.
    const lut = new Float32Array(768);
    for (let v = 0; v < 256; v++) {
      lut[v] = v * k0 - o0;
      lut[256 + v] = v * k1 - o1;
      lut[512 + v] = v * k2 - o2;
    }
    const first = rowStart * dstWidth;
    for (let i = first, s = (i - (job.srcRowOffset ?? 0) * dstWidth) * 3, end = rowEnd * dstWidth; i < end; i++, s += 3) {
      out[i] = lut[src[s]];
      out[plane + i] = lut[256 + src[s + 1]];
      out[2 * plane + i] = lut[512 + src[s + 2]];
    }
    return;
  }
  // Vertical pass fused with the normalisation; the float32 rounding of the resized value
  // that cv2 does (its output is float32) is kept with Math.fround.
  const fround = Math.fround;
  cubicResizeBands(
    src, srcWidth, srcHeight, dstWidth, dstHeight,
    (dy, r0, r1, r2, r3, b0, b1, b2, b3) => {
      let o = dy * dstWidth;
      for (let i = 0, n = r0.length; i < n; i += 3, o++) {
        out[o] = fround(r0[i] * b0 + r1[i] * b1 + r2[i] * b2 + r3[i] * b3) * k0 - o0;
        out[plane + o] = fround(r0[i + 1] * b0 + r1[i + 1] * b1 + r2[i + 1] * b2 + r3[i + 1] * b3) * k1 - o1;
        out[2 * plane + o] = fround(r0[i + 2] * b0 + r1[i + 2] * b1 + r2[i + 2] * b2 + r3[i + 2] * b3) * k2 - o2;
      }
    },
    job.arithmetic, rowStart, rowEnd, job.srcRowOffset ?? 0,
  );
}
