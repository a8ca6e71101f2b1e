// How a checkpoint loader streams weights onto a backend without building host copies of them
// (src/model/parallelLoader.ts): it asks for each device tensor up front, reads tensor bytes
// from the files into a few host staging buffers the sink owns (page-locked on CUDA), and hands
// each filled range to `write`, which copies it into place (rows of a fused tensor land at
// their element offset). Host memory stays at the staging buffers, whatever the model's size.
import type { WeightDType } from '../model/config.js';
import type { DeviceTensor } from './backend.js';

export interface WeightSink {
  /** A weight tensor for checkpoint data of `dtype`, stored in the dtype uploadWeight would
   *  choose for it. Every allocWeight comes before the first write. */
  allocWeight(shape: readonly number[], dtype: WeightDType): DeviceTensor;
  /** `count` host buffers of `bytes` each that reads fill and `write` copies from. */
  stagingBuffers(count: number, bytes: number): Uint8Array[];
  /** Copies `src` (whole little-endian elements of `dtype`, a range of a staging buffer) into
   *  `dst` from element `offset`, converting as uploadWeight does; resolves once `src` may be
   *  overwritten. Copies may still be in flight on the device when it resolves. */
  write(dst: DeviceTensor, offset: number, src: Uint8Array, dtype: WeightDType): Promise<void>;
  /** Resolves once every write is in place and visible to ops enqueued afterwards. */
  finish(): Promise<void>;
  /** Releases the staging buffers and any copy machinery (after finish, or on failure). */
  close(): void;
}
