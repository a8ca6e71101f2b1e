// The CPU backend's linear weights: every one is an f32 matrix in the WASM heap multiplied by
// the matmul kernel. FP8 weights are dequantized once, as they arrive: w[r, c] =
// f32(e4m3(code) * scale[r]), the exact product rounded once, so a CPU run computes with exactly
// the values an FP8 checkpoint (or online quantization) defines.
import type { DeviceTensor, Fp8HostWeight, LinearQuantization } from '../backend.js';
import type { HostTensor } from '../hostTensor.js';
import { decodeToF32 } from '../dtypeConvert.js';
import { dequantizeRowsFp8, quantizeRowsFp8 } from '../fp8E4m3.js';
import { TensorLinear } from '../tensorLinear.js';
import { numel } from '../tensorShape.js';
import { f32, type CpuTensor } from './cpuTensor.js';

export function isFp8HostWeight(w: HostTensor | Fp8HostWeight): w is Fp8HostWeight {
  return (w as Partial<Fp8HostWeight>).scales instanceof Float32Array;
}

function matrixShape(t: HostTensor): [number, number] {
  if (t.shape.length !== 2) throw new Error(`linear weight ${t.name}: expected a matrix [out, in], got [${t.shape.join(', ')}]`);
  return [t.shape[0], t.shape[1]];
}

/** Dequantizes an FP8 host weight into a new f32 tensor made by `alloc`. */
export function uploadFp8(w: Fp8HostWeight, alloc: (shape: readonly number[]) => DeviceTensor): TensorLinear {
  const [rows, cols] = matrixShape(w.data);
  if (w.data.dtype !== 'f8_e4m3') throw new Error(`fp8 weight ${w.data.name}: data is ${w.data.dtype}, expected f8_e4m3`);
  if (w.data.data.byteLength !== rows * cols) throw new Error(`fp8 weight ${w.data.name}: ${w.data.data.byteLength} bytes for [${rows}, ${cols}]`);
  if (w.scales.length !== rows) throw new Error(`fp8 weight ${w.data.name}: ${w.scales.length} scales for ${rows} rows`);
  const t = alloc([rows, cols]) as CpuTensor;
  dequantizeRowsFp8(w.data.data, w.scales, f32(t, 'fp8 weight'));
  return new TensorLinear(t, 'fp8', 4 * rows * cols, true);
}

/** Quantizes f32 values [rows, cols] per row (online FP8) into a new dequantized tensor. */
export function quantizeToFp8(values: Float32Array, rows: number, cols: number, alloc: (shape: readonly number[]) => DeviceTensor): TensorLinear {
  const q = quantizeRowsFp8(values, rows, cols);
  const t = alloc([rows, cols]) as CpuTensor;
  dequantizeRowsFp8(q.codes, q.scales, f32(t, 'fp8 weight'));
  return new TensorLinear(t, 'fp8', 4 * rows * cols, true);
}

/** A dense host weight, stored as f32 (uploadWeight's conversion), or quantized first. */
export function uploadDense(w: HostTensor, quantize: LinearQuantization | undefined, alloc: (shape: readonly number[]) => DeviceTensor): TensorLinear {
  const [rows, cols] = matrixShape(w);
  if (w.dtype === 'f8_e4m3') throw new Error(`linear weight ${w.name}: f8_e4m3 data needs its scales (an Fp8HostWeight)`);
  if (quantize === 'fp8') {
    const values = new Float32Array(numel(w.shape));
    decodeToF32(w.data, w.dtype, values);
    return quantizeToFp8(values, rows, cols, alloc);
  }
  const t = alloc([rows, cols]) as CpuTensor;
  decodeToF32(w.data, w.dtype, f32(t, 'weight'));
  return new TensorLinear(t, 'dense', 4 * rows * cols, true);
}
