// OCP FP8 E4M3FN (safetensors F8_E4M3, torch.float8_e4m3fn) on the host: the 256 codes' values,
// f32 -> E4M3 rounding, and the per-row quantization of a dense weight (vLLM's online FP8
// with per-channel scales). Code layout: sign bit 7, exponent bits 6..3 (bias 7), mantissa
// bits 2..0; exponent 0 is subnormal (m * 2^-9); 0x7f and 0xff are NaN; no infinities; the
// largest finite value is 0x7e = 1.75 * 2^8 = 448.

/** Largest finite E4M3 value. */
export const E4M3_MAX = 448;

function decodeCode(code: number): number {
  const sign = code & 0x80 ? -1 : 1;
  const exp = (code >> 3) & 0xf;
  const man = code & 0x7;
  if (exp === 0xf && man === 0x7) return NaN;
  if (exp === 0) return sign * man * 2 ** -9;
  return sign * (1 + man / 8) * 2 ** (exp - 7);
}

/** The value of every code, indexed by the code byte. */
export const E4M3_VALUES: Float32Array = Float32Array.from({ length: 256 }, (_, c) => decodeCode(c));

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> E4M3 code, rounding to nearest, ties to even; |x| beyond 448 (infinities too)
 *  saturates to ±448 (as vLLM's quantization kernels clamp before converting); NaN -> 0x7f
 *  with x's sign. `x` is rounded to f32 first. */
export function f32ToE4m3(x: number): number {
  f32[0] = x;
  const u = u32[0];
  const sign = (u >>> 24) & 0x80;
  const a = Math.abs(f32[0]);
  if (Number.isNaN(a)) return sign | 0x7f;
  if (a >= E4M3_MAX) return sign | 0x7e;
  if (a < 2 ** -6) {
    // Subnormal range: multiples of 2^-9 (a * 512 is exact); 8 * 2^-9 is the smallest normal, code 8.
    const q = a * 512;
    let m = Math.floor(q);
    const rest = q - m;
    if (rest > 0.5 || (rest === 0.5 && (m & 1) === 1)) m++;
    return sign | m;
  }
  // Normal: keep the top 3 of f32's 23 mantissa bits, round the other 20 half to even; a carry
  // out of the mantissa moves into the exponent, which is what the code arithmetic does.
  const exp = ((u >>> 23) & 0xff) - 127; // -6 .. 8 here
  const man = u & 0x7fffff;
  let r = man >>> 20;
  const rem = man & 0xfffff;
  if (rem > 0x80000 || (rem === 0x80000 && (r & 1) === 1)) r++;
  return sign | Math.min(((exp + 7) << 3) + r, 0x7e);
}

/** A dense weight quantized per output row. */
export interface Fp8Rows {
  /** E4M3 codes [rows, cols]. */
  readonly codes: Uint8Array;
  /** One f32 scale per row: dequantized value = E4M3_VALUES[code] * scale. */
  readonly scales: Float32Array;
}

/**
 * Online FP8 quantization of `values` [rows, cols]: per row, scale = absmax / 448 rounded to
 * f32 (a row of zeros gets scale 1), each element e4m3(f32(w / scale)) rounded to nearest
 * even. The row's largest magnitude lands on ±448 exactly (up to f32 rounding of the divide).
 */
export function quantizeRowsFp8(values: Float32Array, rows: number, cols: number): Fp8Rows {
  if (values.length !== rows * cols) throw new Error(`quantizeRowsFp8: ${values.length} values are not [${rows}, ${cols}]`);
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * cols, (r + 1) * cols);
    let absmax = 0;
    for (let c = 0; c < cols; c++) absmax = Math.max(absmax, Math.abs(row[c]));
    if (!Number.isFinite(absmax)) throw new Error(`quantizeRowsFp8: row ${r} holds a non-finite value`);
    const scale = absmax > 0 ? Math.fround(absmax / E4M3_MAX) : 1;
    scales[r] = scale;
    for (let c = 0; c < cols; c++) codes[r * cols + c] = f32ToE4m3(Math.fround(row[c] / scale));
  }
  return { codes, scales };
}

/** Dequantizes codes [rows, cols] with per-row scales into `out` (f32 products, rounded once). */
export function dequantizeRowsFp8(codes: Uint8Array, scales: Float32Array, out: Float32Array): void {
  const rows = scales.length;
  const cols = rows === 0 ? 0 : codes.length / rows;
  if (!Number.isInteger(cols) || out.length !== codes.length) throw new Error(`dequantizeRowsFp8: ${codes.length} codes, ${rows} scales, ${out.length} outputs do not agree`);
  for (let r = 0; r < rows; r++) {
    const s = scales[r];
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[base + c] = E4M3_VALUES[codes[base + c]] * s;
  }
}
