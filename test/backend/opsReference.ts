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

/** Float64 causal paged attention of a batch: sequence s holds ctxLens[s] tokens whose K/V
 *  rows are allK[s] / allV[s] ([ctxLens[s], kvHeads*hd]); its queries are its last qLens[s]
 *  positions, rows starts[s].. of q ([sum(qLens), heads*hd]); head h reads kv head
 *  floor(h / (heads / kvHeads)). Returns [sum(qLens), heads*hd]. */
export function pagedAttentionRef(
  q: ArrayLike<number>,
  allK: readonly ArrayLike<number>[],
  allV: readonly ArrayLike<number>[],
  ctxLens: readonly number[],
  qLens: readonly number[],
  g: { heads: number; kvHeads: number; hd: number; scale: number },
): Float64Array {
  const { heads, kvHeads, hd, scale } = g;
  const kvW = kvHeads * hd;
  const numTok = qLens.reduce((a, l) => a + l, 0);
  const ref = new Float64Array(numTok * heads * hd);
  let row = 0;
  ctxLens.forEach((len, s) => {
    for (let j = 0; j < qLens[s]; j++, row++) {
      const pos = len - qLens[s] + j;
      for (let h = 0; h < heads; h++) {
        const keys = Array.from({ length: pos + 1 }, (_, t) => t * kvW + Math.floor(h / (heads / kvHeads)) * hd);
        ref.set(attendRef(q, row * heads * hd + h * hd, keys, allK[s], allV[s], hd, scale), row * heads * hd + h * hd);
      }
    }
  });
  return ref;
}

/** Block tables as a block manager hands them out: each sequence gets ceil(len / blockSize)
 *  distinct ids drawn from a shuffled pool of numBlocks; unused entries are -1.
 *  tables [ctxLens.length, maxBlocks]. */
export function shuffledBlockTables(ctxLens: readonly number[], blockSize: number, numBlocks: number, maxBlocks: number): Int32Array {
  const free = Array.from({ length: numBlocks }, (_, i) => i).sort(() => Math.random() - 0.5);
  const tables = new Int32Array(ctxLens.length * maxBlocks).fill(-1);
  ctxLens.forEach((len, s) => {
    for (let j = 0; j < Math.ceil(len / blockSize); j++) {
      const id = free.pop();
      if (id === undefined) throw new Error(`shuffledBlockTables: ${numBlocks} blocks are too few`);
      tables[s * maxBlocks + j] = id;
    }
  });
  return tables;
}
