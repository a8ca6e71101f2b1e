// Row-wise and element-wise ops: add, RMSNorm (plain and fused with the residual add), RoPE
// (text 1D, vision 2D), SiLU-and-mul, GELU. All f32 in, f32 out.
import type { DeviceTensor } from '../backend.js';
import { checkSameShape, f32, i32 } from './cpuTensor.js';
import { rowsCols } from '../tensorShape.js';
import { geluErf, ropeInvFreq, silu } from './mathFunctions.js';

export function add(out: DeviceTensor, a: DeviceTensor, b: DeviceTensor): void {
  checkSameShape(out, a, 'add');
  checkSameShape(a, b, 'add');
  const o = f32(out, 'add out');
  const x = f32(a, 'add a');
  const y = f32(b, 'add b');
  for (let i = 0; i < o.length; i++) o[i] = x[i] + y[i];
}

function normRows(o: Float32Array, x: Float32Array, w: Float32Array, rows: number, d: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let ss = 0;
    for (let c = 0; c < d; c++) ss += x[base + c] * x[base + c];
    const inv = Math.fround(1 / Math.sqrt(Math.fround(ss / d) + eps));
    for (let c = 0; c < d; c++) o[base + c] = Math.fround(x[base + c] * inv) * w[c];
  }
}

export function rmsNorm(out: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number): void {
  checkSameShape(out, x, 'rmsNorm');
  const [rows, d] = rowsCols(x);
  const w = f32(weight, 'rmsNorm weight');
  if (w.length !== d) throw new Error(`rmsNorm: weight has ${w.length} entries, rows have ${d}`);
  normRows(f32(out, 'rmsNorm out'), f32(x, 'rmsNorm x'), w, rows, d, eps);
}

export function addRmsNorm(
  out: DeviceTensor,
  residual: DeviceTensor,
  x: DeviceTensor,
  weight: DeviceTensor,
  eps: number,
): void {
  checkSameShape(out, residual, 'addRmsNorm');
  checkSameShape(residual, x, 'addRmsNorm');
  const r = f32(residual, 'addRmsNorm residual');
  const a = f32(x, 'addRmsNorm x');
  for (let i = 0; i < r.length; i++) r[i] += a[i];
  const [rows, d] = rowsCols(residual);
  const w = f32(weight, 'addRmsNorm weight');
  if (w.length !== d) throw new Error(`addRmsNorm: weight has ${w.length} entries, rows have ${d}`);
  normRows(f32(out, 'addRmsNorm out'), r, w, rows, d, eps);
}

/** Rotate-half on `heads` heads of every row: pair (i, i+half) by angle angles(row)[i]. */
function rotateHalf(
  data: Float32Array,
  rows: number,
  heads: number,
  headDim: number,
  cos: Float32Array, // [rows, half]
  sin: Float32Array,
): void {
  const half = headDim / 2;
  const width = heads * headDim;
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const base = r * width + h * headDim;
      for (let i = 0; i < half; i++) {
        const c = cos[r * half + i];
        const s = sin[r * half + i];
        const a = data[base + i];
        const b = data[base + half + i];
        data[base + i] = a * c - b * s;
        data[base + half + i] = b * c + a * s;
      }
    }
  }
}

function checkHeads(t: DeviceTensor, rows: number, heads: number, headDim: number, what: string): void {
  const [r, c] = rowsCols(t);
  if (r !== rows || c !== heads * headDim) {
    throw new Error(`${what}: expected [${rows}, ${heads * headDim}], got [${t.shape.join(', ')}]`);
  }
}

export function ropeText(
  q: DeviceTensor,
  k: DeviceTensor,
  positions: DeviceTensor,
  numHeads: number,
  numKvHeads: number,
  headDim: number,
  theta: number,
): void {
  const pos = i32(positions, 'ropeText positions');
  const rows = pos.length;
  checkHeads(q, rows, numHeads, headDim, 'ropeText q');
  checkHeads(k, rows, numKvHeads, headDim, 'ropeText k');
  const half = headDim / 2;
  const inv = Float32Array.from({ length: half }, (_, i) => ropeInvFreq(theta, i, headDim));
  const cos = new Float32Array(rows * half);
  const sin = new Float32Array(rows * half);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos[r] * inv[i]);
      cos[r * half + i] = Math.cos(angle);
      sin[r * half + i] = Math.sin(angle);
    }
  }
  rotateHalf(f32(q, 'ropeText q'), rows, numHeads, headDim, cos, sin);
  rotateHalf(f32(k, 'ropeText k'), rows, numKvHeads, headDim, cos, sin);
}

export function ropeVision(
  q: DeviceTensor,
  k: DeviceTensor,
  patchRows: DeviceTensor,
  patchCols: DeviceTensor,
  numHeads: number,
  headDim: number,
  theta: number,
): void {
  const pr = i32(patchRows, 'ropeVision patchRows');
  const pc = i32(patchCols, 'ropeVision patchCols');
  const rows = pr.length;
  if (pc.length !== rows) throw new Error('ropeVision: patchRows and patchCols lengths differ');
  checkHeads(q, rows, numHeads, headDim, 'ropeVision q');
  checkHeads(k, rows, numHeads, headDim, 'ropeVision k');
  const half = headDim / 2; // number of frequencies f_j
  const quarter = half / 2;
  const freq = Float32Array.from({ length: half }, (_, j) => ropeInvFreq(theta, j, headDim));
  const cos = new Float32Array(rows * half);
  const sin = new Float32Array(rows * half);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < half; i++) {
      // first quarter: row * f_even, second quarter: col * f_odd
      const angle = i < quarter ? Math.fround(pr[r] * freq[2 * i]) : Math.fround(pc[r] * freq[2 * (i - quarter) + 1]);
      cos[r * half + i] = Math.cos(angle);
      sin[r * half + i] = Math.sin(angle);
    }
  }
  rotateHalf(f32(q, 'ropeVision q'), rows, numHeads, headDim, cos, sin);
  rotateHalf(f32(k, 'ropeVision k'), rows, numHeads, headDim, cos, sin);
}

export function siluAndMul(out: DeviceTensor, x: DeviceTensor): void {
  const [rows, d] = rowsCols(out);
  const [xr, xc] = rowsCols(x);
  if (xr !== rows || xc !== 2 * d) {
    throw new Error(`siluAndMul: x [${x.shape.join(', ')}] is not [${rows}, ${2 * d}]`);
  }
  const o = f32(out, 'siluAndMul out');
  const a = f32(x, 'siluAndMul x');
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) o[r * d + c] = silu(a[r * 2 * d + c]) * a[r * 2 * d + d + c];
  }
}

export function gelu(out: DeviceTensor, x: DeviceTensor): void {
  checkSameShape(out, x, 'gelu');
  const o = f32(out, 'gelu out');
  const a = f32(x, 'gelu x');
  for (let i = 0; i < o.length; i++) o[i] = geluErf(a[i]);
}
