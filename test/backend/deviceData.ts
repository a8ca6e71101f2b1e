// Small constructors of device tensors from host data, shared by the op tests of every backend.
import type { Backend, DeviceTensor } from '../../src/backend/backend.js';

/** A tensor of the backend's activation dtype (f32 on the CPU, bf16 on CUDA) holding `data`. */
export function activation(b: Backend, data: Float32Array, shape: number[]): DeviceTensor {
  const t = b.alloc(shape, b.activationDType);
  b.write(t, data);
  return t;
}

/** An i32 vector holding `data`. */
export function int32s(b: Backend, data: ArrayLike<number>): DeviceTensor {
  const t = b.alloc([data.length], 'i32');
  b.write(t, Int32Array.from(data));
  return t;
}
