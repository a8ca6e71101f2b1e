// The CPU backend's WeightSink: weights are f32 in the WASM heap; each staged range is
// converted straight into its place (the same conversion as uploadWeight, so the weights are
// bit-identical to it).
import { WEIGHT_DTYPE_BYTES, type WeightDType } from '../hostTensor.js';
import type { DeviceTensor, WeightSink } from '../backend.js';
import { decodeToF32 } from '../dtypeConvert.js';
import { asCpu } from './cpuTensor.js';

const WIDTH = WEIGHT_DTYPE_BYTES;

export class CpuWeightSink implements WeightSink {
  constructor(private readonly alloc: (shape: readonly number[]) => DeviceTensor) {}

  allocWeight(shape: readonly number[]): DeviceTensor {
    return this.alloc(shape);
  }

  stagingBuffers(count: number, bytes: number): Uint8Array[] {
    return Array.from({ length: count }, () => new Uint8Array(bytes));
  }

  async write(dst: DeviceTensor, offset: number, src: Uint8Array, dtype: WeightDType): Promise<void> {
    const t = asCpu(dst, 'weight');
    const count = src.byteLength / WIDTH[dtype];
    if (!Number.isInteger(count) || offset < 0 || offset + count > t.data.length) {
      throw new Error(`weight write of ${src.byteLength} bytes of ${dtype} at element ${offset} overflows a tensor of ${t.data.length}`);
    }
    decodeToF32(src, dtype, (t.data as Float32Array).subarray(offset, offset + count));
  }

  async finish(): Promise<void> {}

  close(): void {}
}
