// A tensor in host memory as a backend receives it (uploads, dtype conversion): the weight
// formats a backend can take and the bytes as read from disk.

/** Element formats of a weight on disk and in device memory. */
export type WeightDType = 'bf16' | 'f16' | 'f32';

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
