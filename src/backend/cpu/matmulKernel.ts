// The matmul inner kernel, shared by the main thread and the worker threads:
// out[i, j] = sum_k x[i, k] * w[j, k] for all rows i and the columns j in [j0, j1).
// Register tile: 2 rows of x by 4 rows of w (8 running sums); the 4 rows of w (4 * k floats)
// stay in cache while every row of x streams past them.

export function matmulColumns(
  x: Float32Array, // [m, k]
  w: Float32Array, // [n, k]
  out: Float32Array, // [m, n]
  m: number,
  n: number,
  k: number,
  j0: number,
  j1: number,
): void {
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const w0 = j * k;
    const w1 = w0 + k;
    const w2 = w1 + k;
    const w3 = w2 + k;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const a0 = i * k;
      const a1 = a0 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let p = 0; p < k; p++) {
        const xa = x[a0 + p];
        const xb = x[a1 + p];
        const b0 = w[w0 + p];
        const b1 = w[w1 + p];
        const b2 = w[w2 + p];
        const b3 = w[w3 + p];
        s00 += xa * b0; s01 += xa * b1; s02 += xa * b2; s03 += xa * b3;
        s10 += xb * b0; s11 += xb * b1; s12 += xb * b2; s13 += xb * b3;
      }
      const o0 = i * n + j;
      const o1 = o0 + n;
      out[o0] = s00; out[o0 + 1] = s01; out[o0 + 2] = s02; out[o0 + 3] = s03;
      out[o1] = s10; out[o1 + 1] = s11; out[o1 + 2] = s12; out[o1 + 3] = s13;
    }
    for (; i < m; i++) {
      const a0 = i * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const xa = x[a0 + p];
        s0 += xa * w[w0 + p]; s1 += xa * w[w1 + p]; s2 += xa * w[w2 + p]; s3 += xa * w[w3 + p];
      }
      const o0 = i * n + j;
      out[o0] = s0; out[o0 + 1] = s1; out[o0 + 2] = s2; out[o0 + 3] = s3;
    }
  }
  for (; j < j1; j++) {
    const w0 = j * k;
    for (let i = 0; i < m; i++) {
      const a0 = i * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += x[a0 + p] * w[w0 + p];
      out[i * n + j] = s;
    }
  }
}
