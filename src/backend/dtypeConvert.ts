// Host-side conversion of raw little-endian weight bytes to f32.
import { WEIGHT_DTYPE_BYTES, type WeightDType } from './hostTensor.js';
import { E4M3_VALUES } from './fp8E4m3.js';

/** bf16 bits (upper half of an f32) -> f32 values. */
export function bf16ToF32(src: Uint16Array, dst: Float32Array): void {
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
}

/** IEEE half bits -> f32 values (subnormals, infinities and NaN included). */
export function f16ToF32(src: Uint16Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = halfToFloat(src[i]);
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Converts `bytes` of `dtype` into `dst` (length = element count). f8_e4m3 gives the codes'
 *  values, unscaled (an FP8 weight's scales are applied by its backend). */
export function decodeToF32(bytes: Uint8Array, dtype: WeightDType, dst: Float32Array): void {
  const count = dst.length;
  const width = WEIGHT_DTYPE_BYTES[dtype];
  if (bytes.byteLength !== count * width) {
    throw new Error(`expected ${count * width} bytes of ${dtype}, got ${bytes.byteLength}`);
  }
  if (dtype === 'f8_e4m3') {
    for (let i = 0; i < count; i++) dst[i] = E4M3_VALUES[bytes[i]];
    return;
  }
  // Copy to an aligned buffer first: `bytes` may be a view at an odd offset into a file.
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  if (dtype === 'f32') dst.set(new Float32Array(aligned.buffer));
  else if (dtype === 'bf16') bf16ToF32(new Uint16Array(aligned.buffer), dst);
  else f16ToF32(new Uint16Array(aligned.buffer), dst);
}
