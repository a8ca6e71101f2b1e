// Float64 re-computations of each backend op, written as plainly as possible, for the op suite.
// They share no code with any backend.

export function erf64(x: number): number {
  // Taylor series for |x| < 3, asymptotic erfc beyond (ample for f32 comparisons).
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let sum = 0;
    let term = ax;
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-ax * ax) / (n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let s = 1;
    let t = 1;
    for (let n = 1; n < 8; n++) {
      t *= -(2 * n - 1) / (2 * ax * ax);
      s += t;
    }
    r = 1 - (Math.exp(-ax * ax) / (ax * Math.sqrt(Math.PI))) * s;
  }
  return x < 0 ? -r : r;
}

export function matmulRef(x: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p] * w[j * k + p];
      out[i * n + j] = s;
    }
  }
  return out;
}

export function rmsNormRef(x: ArrayLike<number>, w: ArrayLike<number>, rows: number, d: number, eps: number): Float64Array {
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < d; c++) ss += x[r * d + c] ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let c = 0; c < d; c++) out[r * d + c] = x[r * d + c] * inv * w[c];
  }
  return out;
}

/** Rotate-half RoPE with per-row angles(row, i), i < headDim/2. */
export function ropeRef(
  x: ArrayLike<number>,
  rows: number,
  heads: number,
  headDim: number,
  angle: (row: number, i: number) => number,
): Float64Array {
  const out = Float64Array.from(x);
  const half = headDim / 2;
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const b = r * heads * headDim + h * headDim;
      for (let i = 0; i < half; i++) {
        const a = angle(r, i);
        const x1 = x[b + i];
        const x2 = x[b + half + i];
        out[b + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
        out[b + half + i] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
    }
  }
  return out;
}

/** softmax(scale q·k) v for one query head over the given key rows. */
export function attendRef(
  q: ArrayLike<number>,
  qOff: number,
  keys: readonly number[], // element offsets of the key rows (same offsets in vSrc)
  kSrc: ArrayLike<number>,
  vSrc: ArrayLike<number>,
  headDim: number,
  scale: number,
): Float64Array {
  const scores = keys.map((ko) => {
    let s = 0;
    for (let d = 0; d < headDim; d++) s += q[qOff + d] * kSrc[ko + d];
    return s * scale;
  });
  const max = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - max));
  const sum = e.reduce((a, b) => a + b, 0);
  const out = new Float64Array(headDim);
  keys.forEach((ko, t) => {
    for (let d = 0; d < headDim; d++) out[d] += (e[t] / sum) * vSrc[ko + d];
  });
  return out;
}

export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) throw new Error(`length ${out.length} vs reference ${ref.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (out[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

/** f32 -> bf16 bits, round to nearest even. */
export function toBf16Bits(v: number): number {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBf16Bits(b: number): number {
  return new Float32Array(new Uint32Array([b << 16]).buffer)[0];
}

/** f32 -> f16 bits for normal-range values (the suite draws values in (-4, 4)). */
export function toF16Bits(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e < -14) return sign | Math.round(a / 2 ** -24);
  return sign | ((e + 15) << 10) | m;
}

export function fromF16Bits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}
