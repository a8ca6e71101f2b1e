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

/** The source rows [first, last] that destination rows [rowStart, rowEnd) read. */
export function sourceRows(
  srcHeight: number,
  dstHeight: number,
  rowStart: number,
  rowEnd: number,
  arithmetic: CubicArithmetic,
): [number, number] {
  if (srcHeight === dstHeight) return [rowStart, rowEnd - 1];
  const taps = cubicTaps(srcHeight, dstHeight, arithmetic);
  return [taps.index[rowStart * 4], taps.index[(rowEnd - 1) * 4 + 3]];
}

/** Horizontal taps laid out for the row kernel: interior taps are 4 consecutive pixels. */
interface RowPlan {
  start: Int32Array; // [dstWidth] element offset of the first tap (pixel index * 3)
  index: Int32Array; // [dstWidth * 4] clamped pixel index of each tap (for the borders)
  weight: Float64Array; // [dstWidth * 4]
  interiorStart: number; // destination columns [interiorStart, interiorEnd) need no clamping
  interiorEnd: number;
}

function rowPlan(taps: CubicTaps, dstWidth: number): RowPlan {
  const start = new Int32Array(dstWidth);
  let interiorStart = 0;
  let interiorEnd = dstWidth;
  const consecutive = (d: number): boolean =>
    taps.index[d * 4 + 1] === taps.index[d * 4] + 1 &&
    taps.index[d * 4 + 2] === taps.index[d * 4] + 2 &&
    taps.index[d * 4 + 3] === taps.index[d * 4] + 3;
  for (let d = 0; d < dstWidth; d++) start[d] = taps.index[d * 4] * 3;
  while (interiorStart < dstWidth && !consecutive(interiorStart)) interiorStart++;
  while (interiorEnd > interiorStart && !consecutive(interiorEnd - 1)) interiorEnd--;
  for (let d = interiorStart; d < interiorEnd; d++) {
    if (!consecutive(d)) throw new Error('cubic taps: a clamped tap inside the interior');
  }
  return { start, index: taps.index, weight: Float64Array.from(taps.weight), interiorStart, interiorEnd };
}

/** One tap set with clamped (border) indices: out[o..o+2] for destination column dx. */
function borderPixel(src: Uint8Array | Float32Array, base: number, plan: RowPlan, dx: number, out: Float32Array): void {
  const t = dx * 4;
  const o = dx * 3;
  const p0 = base + plan.index[t] * 3;
  const p1 = base + plan.index[t + 1] * 3;
  const p2 = base + plan.index[t + 2] * 3;
  const p3 = base + plan.index[t + 3] * 3;
  const w = plan.weight;
  const a0 = w[t], a1 = w[t + 1], a2 = w[t + 2], a3 = w[t + 3];
  out[o] = src[p0] * a0 + src[p1] * a1 + src[p2] * a2 + src[p3] * a3;
  out[o + 1] = src[p0 + 1] * a0 + src[p1 + 1] * a1 + src[p2 + 1] * a2 + src[p3 + 1] * a3;
  out[o + 2] = src[p0 + 2] * a0 + src[p1 + 2] * a1 + src[p2 + 2] * a2 + src[p3 + 2] * a3;
}

/** Horizontal pass of one source row (element offset `base`) into out [dstWidth * 3]. */
function horizontalRow(src: Uint8Array | Float32Array, base: number, plan: RowPlan, dstWidth: number, out: Float32Array): void {
  const { start, weight: w, interiorStart, interiorEnd } = plan;
  for (let dx = 0; dx < interiorStart; dx++) borderPixel(src, base, plan, dx, out);
  for (let dx = interiorStart, t = dx * 4, o = dx * 3; dx < interiorEnd; dx++, t += 4, o += 3) {
    const p = base + start[dx];
    const a0 = w[t], a1 = w[t + 1], a2 = w[t + 2], a3 = w[t + 3];
    out[o] = src[p] * a0 + src[p + 3] * a1 + src[p + 6] * a2 + src[p + 9] * a3;
    out[o + 1] = src[p + 1] * a0 + src[p + 4] * a1 + src[p + 7] * a2 + src[p + 10] * a3;
    out[o + 2] = src[p + 2] * a0 + src[p + 5] * a1 + src[p + 8] * a2 + src[p + 11] * a3;
  }
  for (let dx = interiorEnd; dx < dstWidth; dx++) borderPixel(src, base, plan, dx, out);
}

/**
 * Receives, for destination row dy, the 4 horizontally resized source rows (interleaved RGB
 * float32, [dstWidth * 3]) and their vertical weights; the row is sum(r_k * b_k) in that order.
 */
export type VerticalSink = (
  dy: number,
  r0: Float32Array, r1: Float32Array, r2: Float32Array, r3: Float32Array,
  b0: number, b1: number, b2: number, b3: number,
) => void;

/**
 * The resize of an interleaved 3-channel image (uint8 or float32 values) from srcWidth x
 * srcHeight to dstWidth x dstHeight, for destination rows [rowStart, rowEnd): the horizontal
 * pass here, the vertical combination in `sink` (so it can be fused with what follows).
 * `src` holds the source rows from `srcRowOffset` on (a band), at least sourceRows(...).
 * Not for equal sizes (cv::resize copies then; see cubicResizeRgb).
 */
export function cubicResizeBands(
  src: Uint8Array | Float32Array, // [rows, srcWidth, 3]
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  sink: VerticalSink,
  arithmetic: CubicArithmetic = 'opencv5',
  rowStart = 0,
  rowEnd = dstHeight,
  srcRowOffset = 0,
): void {
  const plan = rowPlan(cubicTaps(srcWidth, dstWidth, arithmetic), dstWidth);
  const yt = cubicTaps(srcHeight, dstHeight, arithmetic);
  // Ring of 4 horizontally resized source rows, slot = row & 3; the rows a destination row
  // needs never go backwards, so a row leaves the ring only once no later row needs it.
  const ring = [0, 1, 2, 3].map(() => new Float32Array(dstWidth * 3));
  const ringRow = new Int32Array([-1, -1, -1, -1]);
  const rowStride = srcWidth * 3;
  const rowFor = (sy: number): Float32Array => {
    const slot = sy & 3;
    if (ringRow[slot] !== sy) {
      horizontalRow(src, (sy - srcRowOffset) * rowStride, plan, dstWidth, ring[slot]);
      ringRow[slot] = sy;
    }
    return ring[slot];
  };
  for (let dy = rowStart; dy < rowEnd; dy++) {
    const t = dy * 4;
    // The 4 indices are consecutive or repeat at a border, so they never share a slot wrongly.
    const r0 = rowFor(yt.index[t]);
    const r1 = rowFor(yt.index[t + 1]);
    const r2 = rowFor(yt.index[t + 2]);
    const r3 = rowFor(yt.index[t + 3]);
    sink(dy, r0, r1, r2, r3, yt.weight[t], yt.weight[t + 1], yt.weight[t + 2], yt.weight[t + 3]);
  }
}

/**
 * cv::resize(src, (dstWidth, dstHeight), INTER_CUBIC) of an interleaved 3-channel image.
 * Calls `onRow(dy, row)` for each destination row in [rowStart, rowEnd) in order; `row` is
 * [dstWidth * 3] float32, interleaved, and is reused after the callback returns.
 */
export function cubicResizeRgb(
  src: Uint8Array | Float32Array, // [srcHeight, srcWidth, 3]
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  onRow: (dy: number, row: Float32Array) => void,
  arithmetic: CubicArithmetic = 'opencv5',
  rowStart = 0,
  rowEnd = dstHeight,
): void {
  const rowOut = new Float32Array(dstWidth * 3);
  if (srcWidth === dstWidth && srcHeight === dstHeight) {
    // cv::resize copies when the size does not change.
    for (let y = rowStart; y < rowEnd; y++) {
      const base = y * srcWidth * 3;
      for (let i = 0; i < rowOut.length; i++) rowOut[i] = src[base + i];
      onRow(y, rowOut);
    }
    return;
  }
  cubicResizeBands(
    src, srcWidth, srcHeight, dstWidth, dstHeight,
    (dy, r0, r1, r2, r3, b0, b1, b2, b3) => {
      for (let x = 0, n = rowOut.length; x < n; x++) rowOut[x] = r0[x] * b0 + r1[x] * b1 + r2[x] * b2 + r3[x] * b3;
      onRow(dy, rowOut);
    },
    arithmetic, rowStart, rowEnd,
  );
}
