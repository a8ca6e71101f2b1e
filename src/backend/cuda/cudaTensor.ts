// CUDA device memory as the backend interface sees it: a device address, a shape and a dtype.
import type { DeviceTensor, DType } from '../backend.js';
import type { DevicePtr } from './ffi/driver.js';

export const DTYPE_BYTES: Record<DType, number> = { f32: 4, bf16: 2, f16: 2, i32: 4 };

export class CudaTensor implements DeviceTensor {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly ptr: DevicePtr,
    readonly numel: number,
    readonly isView: boolean,
  ) {}

  get bytes(): number {
    return this.numel * DTYPE_BYTES[this.dtype];
  }
}


export function asCuda(t: DeviceTensor, what: string, dtype?: DType | readonly DType[]): CudaTensor {
  if (!(t instanceof CudaTensor)) throw new Error(`${what} is not a cuda backend tensor`);
  if (dtype !== undefined) {
    const ok = typeof dtype === 'string' ? t.dtype === dtype : dtype.includes(t.dtype);
    if (!ok) throw new Error(`${what}: expected ${String(dtype)}, got ${t.dtype}`);
  }
  return t;
}

/** The last dimension and the product of the others. */

export function checkNumel(t: CudaTensor, n: number, what: string): void {
  if (t.numel !== n) throw new Error(`${what}: expected ${n} elements, tensor [${t.shape.join(', ')}] has ${t.numel}`);
}

/** f32 -> bf16 bits, round to nearest even (NaN stays NaN). */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const u = bits[i];
    if ((u & 0x7fffffff) > 0x7f800000) out[i] = (u >>> 16) | 0x40;
    else out[i] = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}
