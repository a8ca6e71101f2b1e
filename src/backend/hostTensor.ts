// A tensor in host memory as a backend receives it (uploads, dtype conversion): the weight
// formats a backend can take and the bytes as read from disk.

/** Element formats of a weight on disk and in device memory. 'f8_e4m3' is OCP FP8 E4M3FN
 *  (safetensors F8_E4M3, torch.float8_e4m3fn: 1 sign, 4 exponent bits of bias 7, 3 mantissa
 *  bits, no infinities, 0x7f/0xff NaN, largest finite 448); it only ever holds the data of an
 *  FP8 linear weight (Fp8HostWeight in backend.ts), whose scales come beside it. */
export type WeightDType = 'bf16' | 'f16' | 'f32' | 'f8_e4m3';

/** Bytes per element of each weight dtype. */
export const WEIGHT_DTYPE_BYTES: Readonly<Record<WeightDType, number>> = { bf16: 2, f16: 2, f32: 4, f8_e4m3: 1 };

/**
 * A weight as read from disk: raw little-endian bytes of `dtype`, row-major `shape`.
 * `data` may be a view into a larger buffer; never mutate it.
 */
export interface HostTensor {
  readonly name: string;
  readonly dtype: WeightDType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}
