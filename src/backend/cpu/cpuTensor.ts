// CPU device memory: every tensor is f32 or i32 inside one shared WebAssembly memory (WasmHeap),
// so the WASM matmul kernels on every thread read and write it without copies.
import type { DeviceTensor, DType } from '../backend.js';
import type { WasmHeap } from './wasmHeap.js';
import { numel } from '../tensorShape.js';

export class CpuTensor implements DeviceTensor {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: 'f32' | 'i32',
    /** Exactly this tensor's elements (a view when the tensor is a view). */
    readonly data: Float32Array | Int32Array,
    readonly isView: boolean,
  ) {}
}


export function cpuAlloc(heap: WasmHeap, shape: readonly number[], dtype: DType): CpuTensor {
  if (dtype !== 'f32' && dtype !== 'i32') {
    throw new Error(`cpu backend stores f32 and i32 tensors only (asked for ${dtype})`);
  }
  const n = numel(shape);
  const start = heap.alloc(Math.max(4, n * 4));
  const data = dtype === 'f32' ? heap.f32(start, n) : heap.i32(start, n);
  return new CpuTensor([...shape], dtype, data, false);
}

export function asCpu(t: DeviceTensor, what = 'tensor'): CpuTensor {
  if (!(t instanceof CpuTensor)) throw new Error(`${what} is not a cpu backend tensor`);
  return t;
}

export function f32(t: DeviceTensor, what: string): Float32Array {
  const c = asCpu(t, what);
  if (c.dtype !== 'f32') throw new Error(`${what}: expected f32, got ${c.dtype}`);
  return c.data as Float32Array;
}

export function i32(t: DeviceTensor, what: string): Int32Array {
  const c = asCpu(t, what);
  if (c.dtype !== 'i32') throw new Error(`${what}: expected i32, got ${c.dtype}`);
  return c.data as Int32Array;
}

/** The last dimension and the product of the others. */

export function checkSameShape(a: DeviceTensor, b: DeviceTensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
}
