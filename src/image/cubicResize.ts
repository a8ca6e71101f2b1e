// OpenCV's cv::resize with INTER_CUBIC on a float32 image, written out: the same source
// coordinate mapping and coefficient arithmetic, border replication, a horizontal pass into
// float32 rows, then a vertical pass. No antialiasing, no clamping.
//
// OpenCV 4.x rounds the source coordinate and the cubic coefficients to float32 on the way;
// OpenCV 5.0 computes both in double (measured: its output matches ours to 1.4e-6 in double
// mode, and differs from 4.x by up to 5.5e-4 after normalisation at 1541 -> 1540).

/** Which OpenCV's tap arithmetic to follow: 'opencv5' (double, the default) or 'opencv4' (float32). */
export type CubicArithmetic = 'opencv5' | 'opencv4';

const fround = Math.fround;
const A = -0.75; // OpenCV's cubic constant, exact in float32

/** OpenCV 4's interpolateCubic(x, coeffs), each operation rounded to float32 as the C++ does. */
export function cubicCoefficientsFloat32(x: number, out: Float32Array, offset: number): void {
  const x1 = fround(x + 1);
  const c0 = fround(fround(fround(fround(fround(fround(A * x1) - 5 * A) * x1) + 8 * A) * x1) - 4 * A);
  const c1 = fround(fround(fround(fround(fround((A + 2) * x) - (A + 3)) * x) * x) + 1);
  const y = fround(1 - x);
  const c2 = fround(fround(fround(fround(fround((A + 2) * y) - (A + 3)) * y) * y) + 1);
  const c3 = fround(fround(fround(1 - c0) - c1) - c2);
  out[offset] = c0;
  out[offset + 1] = c1;
  out[offset + 2] = c2;
  out[offset + 3] = c3;
}

/** OpenCV 5's cubic coefficients: the same polynomial in double, stored as float32 weights. */
export function cubicCoefficientsDouble(x: number, out: Float32Array, offset: number): void {
  const x1 = x + 1;
  const y = 1 - x;
  const c0 = ((A * x1 - 5 * A) * x1 + 8 * A) * x1 - 4 * A;
  const c1 = ((A + 2) * x - (A + 3)) * x * x + 1;
  const c2 = ((A + 2) * y - (A + 3)) * y * y + 1;
  out[offset] = c0;
  out[offset + 1] = c1;
  out[offset + 2] = c2;
  out[offset + 3] = 1 - c0 - c1 - c2;
}

/** Per destination index: the 4 source indices (clamped to [0, srcSize)) and their weights. */
export interface CubicTaps {
  index: Int32Array; // [dstSize * 4]
  weight: Float32Array; // [dstSize * 4]
}

/**
 * Tap table along one axis. scale = 1 / (dst / src) in double as cv::resize computes it;
 * f = (d + 0.5) * scale - 0.5 (OpenCV 4 rounds it to float32); s = floor(f); taps s-1 .. s+2,
 * replicated at the borders; weights from f - s.
 */
export function cubicTaps(srcSize: number, dstSize: number, arithmetic: CubicArithmetic = 'opencv5'): CubicTaps {
  const scale = 1 / (dstSize / srcSize);
  const index = new Int32Array(dstSize * 4);
  const weight = new Float32Array(dstSize * 4);
  const last = srcSize - 1;
  let s = 0;
  for (let d = 0; d < dstSize; d++) {
    if (arithmetic === 'opencv4') {
      const f = fround((d + 0.5) * scale - 0.5);
      s = Math.floor(f);
      cubicCoefficientsFloat32(fround(f - s), weight, d * 4);
    } else {
      const f = (d + 0.5) * scale - 0.5;
      s = Math.floor(f);
      cubicCoefficientsDouble(f - s, weight, d * 4);
    }
    for (let k = 0; k < 4; k++) {
      const i = s - 1 + k;
      index[d * 4 + k] = i < 0 ? 0 : i > last ? last : i;
    }
  }
  return { index, weight };
}

/**
 * Resizes an interleaved 3-channel image (uint8 or float32 values) to dstWidth x dstHeight.
 * Calls `onRow(dy, row)` for each destination row in order; `row` is [dstWidth * 3] float32,
 * interleaved, and is reused after the callback returns.
 */
export function cubicResizeRgb(
  src: Uint8Array | Float32Array, // [srcHeight, srcWidth, 3]
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  onRow: (dy: number, row: Float32Array) => void,
  arithmetic: CubicArithmetic = 'opencv5',
): void {
  const rowOut = new Float32Array(dstWidth * 3);
  if (srcWidth === dstWidth && srcHeight === dstHeight) {
    // cv::resize copies when the size does not change.
    for (let y = 0; y < srcHeight; y++) {
      const base = y * srcWidth * 3;
      for (let i = 0; i < rowOut.length; i++) rowOut[i] = src[base + i];
      onRow(y, rowOut);
    }
    return;
  }
  const xt = cubicTaps(srcWidth, dstWidth, arithmetic);
  const yt = cubicTaps(srcHeight, dstHeight, arithmetic);
  const xIndex = xt.index;
  const xWeight = xt.weight;
  // Ring of 4 horizontally resized source rows; the rows a destination row needs never go
  // backwards, so a row leaves the ring only once no later destination row needs it.
  const ring = [0, 1, 2, 3].map(() => new Float32Array(dstWidth * 3));
  const ringRow = new Int32Array([-1, -1, -1, -1]);
  const rowStride = srcWidth * 3;

  const horizontal = (sy: number, out: Float32Array): void => {
    const base = sy * rowStride;
    for (let dx = 0, t = 0, o = 0; dx < dstWidth; dx++, t += 4, o += 3) {
      const p0 = base + xIndex[t] * 3;
      const p1 = base + xIndex[t + 1] * 3;
      const p2 = base + xIndex[t + 2] * 3;
      const p3 = base + xIndex[t + 3] * 3;
      const a0 = xWeight[t];
      const a1 = xWeight[t + 1];
      const a2 = xWeight[t + 2];
      const a3 = xWeight[t + 3];
      out[o] = src[p0] * a0 + src[p1] * a1 + src[p2] * a2 + src[p3] * a3;
      out[o + 1] = src[p0 + 1] * a0 + src[p1 + 1] * a1 + src[p2 + 1] * a2 + src[p3 + 1] * a3;
      out[o + 2] = src[p0 + 2] * a0 + src[p1 + 2] * a1 + src[p2 + 2] * a2 + src[p3 + 2] * a3;
    }
  };
  const rowFor = (sy: number): Float32Array => {
    const slot = sy & 3;
    if (ringRow[slot] !== sy) {
      horizontal(sy, ring[slot]);
      ringRow[slot] = sy;
    }
    return ring[slot];
  };

  const n = dstWidth * 3;
  for (let dy = 0; dy < dstHeight; dy++) {
    const t = dy * 4;
    // Fetch in order; equal clamped indices (borders) share a slot, so fetch all before use.
    const i0 = yt.index[t];
    const i1 = yt.index[t + 1];
    const i2 = yt.index[t + 2];
    const i3 = yt.index[t + 3];
    const r0 = rowFor(i0);
    const r1 = rowFor(i1);
    const r2 = rowFor(i2);
    const r3 = rowFor(i3);
    const b0 = yt.weight[t];
    const b1 = yt.weight[t + 1];
    const b2 = yt.weight[t + 2];
    const b3 = yt.weight[t + 3];
    for (let x = 0; x < n; x++) rowOut[x] = r0[x] * b0 + r1[x] * b1 + r2[x] * b2 + r3[x] * b3;
    onRow(dy, rowOut);
  }
}
