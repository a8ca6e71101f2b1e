// Where a checkpoint tensor's bytes lie on disk, for loaders that read files themselves
// (src/model/parallelLoader.ts) instead of asking WeightSource.get for host copies.
import type { WeightDType } from './config.js';
import type { WeightSource } from './weights.js';

export interface TensorLocation {
  /** The file holding the tensor, and the absolute byte range of its data. */
  readonly path: string;
  readonly offset: number;
  readonly byteLength: number;
  readonly dtype: WeightDType;
  readonly shape: readonly number[];
  /** Set for Mistral-layout wq/wk: the rows are interleaved-pair RoPE, `heads` heads of
   *  shape[0] / heads rows each, and must be placed in the canonical rotate-half order
   *  (src/model/ropePermute.ts). */
  readonly ropeHeads: number | null;
}

/** A WeightSource whose tensors can be located in its files. */
export interface LocatedWeightSource extends WeightSource {
  locate(name: string): TensorLocation;
}

export function isLocated(source: WeightSource): source is LocatedWeightSource {
  return typeof (source as Partial<LocatedWeightSource>).locate === 'function';
}
