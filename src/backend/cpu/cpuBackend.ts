// The CPU reference backend: f32 everywhere (bf16/f16 weights are converted once at upload),
// straightforward loops; matmuls run a WASM SIMD kernel split over the cores by worker threads,
// every tensor living in one shared WebAssembly memory (bench/notes/cpu-matmul.md says why).
import os from 'node:os';
import type {
  Backend,
  BackendDescription,
  DeviceMemoryInfo,
  DeviceTensor,
  DType,
  Fp8HostWeight,
  ImageSpans,
  LinearQuantization,
  LinearRopeWriteKvArgs,
  LinearWeight,
  PagedAttentionArgs,
  SampleRequest,
  ScoreRequest,
  VisionAttentionArgs,
  WeightSink,
} from '../backend.js';
import type { HostTensor } from '../hostTensor.js';
import type { SampledToken, TokenLogprobs } from '../sampling/types.js';
import { decodeToF32 } from '../dtypeConvert.js';
import { sampleRow } from '../sampling/sampleRow.js';
import { tokenLogprobs } from '../sampling/rowLogprobs.js';
import { CpuTensor, asCpu, cpuAlloc, f32 } from './cpuTensor.js';
import { numel, rowsCols } from '../tensorShape.js';
import * as ew from './elementwise.js';
import { linearRopeWriteKvUnfused } from '../linearRopeWriteKv.js';
import * as gather from './gather.js';
import { pagedAttention, visionAttention } from './attention.js';
import { MatmulPool } from './matmulPool.js';
import { WasmHeap } from './wasmHeap.js';
import { CpuWeightSink } from './cpuWeightSink.js';
import { asTensorLinear, TensorLinear, tensorLinearRows } from '../tensorLinear.js';
import { isFp8HostWeight, quantizeToFp8, uploadDense, uploadFp8 } from './cpuLinear.js';
import type { WeightDType } from '../hostTensor.js';

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /** Threads for matmuls (default: all cores the OS reports). */
  readonly threads?: number;
  /** Memory the backend may plan with, in bytes (default: 60% of the machine's free memory). */
  readonly memoryBytes?: number;
}

/** The CPU reference backend: f32, WASM SIMD matmuls on worker threads. */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly activationDType = 'f32' as const;
  private readonly heap = new WasmHeap();
  private readonly pool: MatmulPool;
  private readonly budget: number;

  constructor(options: CpuBackendOptions = {}) {
    this.pool = new MatmulPool(this.heap, Math.max(1, options.threads ?? os.availableParallelism()));
    // wasm32 memory holds at most 4 GiB.
    this.budget = Math.min(options.memoryBytes ?? Math.floor(os.freemem() * 0.6), 4 * 1024 ** 3 - 65536);
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** The CPU and its threads. */
  describe(): BackendDescription {
    return { device: `cpu, ${this.threads} threads`, threads: this.threads, details: {} };
  }

  /** Resolves once every matmul worker has started (matmuls before that use fewer threads). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (this.pool.readyThreads < this.pool.threads) {
      if (Date.now() - start > timeoutMs) throw new Error(`cpu backend: ${this.pool.threads - this.pool.readyThreads} matmul worker(s) did not start`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The host's free and total memory in bytes. */
  memoryInfo(): DeviceMemoryInfo {
    return { freeBytes: Math.max(0, this.budget - this.heap.bytesInUse), totalBytes: this.budget };
  }

  alloc(shape: readonly number[], dtype: DType): DeviceTensor {
    return cpuAlloc(this.heap, shape, dtype === 'bf16' || dtype === 'f16' ? 'f32' : dtype);
  }

  uploadWeight(tensor: HostTensor, shape?: readonly number[]): DeviceTensor {
    if (tensor.dtype === 'f8_e4m3') throw new Error(`weight ${tensor.name}: f8_e4m3 data needs its scales (uploadLinear)`);
    const target = shape ?? tensor.shape;
    if (numel(target) !== numel(tensor.shape)) {
      throw new Error(`weight ${tensor.name}: cannot view [${tensor.shape.join(', ')}] as [${target.join(', ')}]`);
    }
    const t = this.alloc(target, 'f32') as CpuTensor;
    decodeToF32(tensor.data, tensor.dtype, t.data as Float32Array);
    return t;
  }

  createWeightSink(): WeightSink {
    return new CpuWeightSink((shape) => this.alloc(shape, 'f32'));
  }

  write(dst: DeviceTensor, data: Float32Array | Int32Array, offset = 0): void {
    const t = asCpu(dst, 'write dst');
    if ((t.dtype === 'i32') !== data instanceof Int32Array) {
      throw new Error(`write: ${data.constructor.name} into a ${t.dtype} tensor`);
    }
    if (offset < 0 || offset + data.length > t.data.length) {
      throw new Error(`write: ${data.length} elements at ${offset} overflow a tensor of ${t.data.length}`);
    }
    t.data.set(data, offset);
  }

  async download(src: DeviceTensor): Promise<Float32Array | Int32Array> {
    return asCpu(src, 'download src').data.slice();
  }

  view(base: DeviceTensor, shape: readonly number[], offset = 0): DeviceTensor {
    const b = asCpu(base, 'view base');
    const n = numel(shape);
    if (offset < 0 || offset + n > b.data.length) {
      throw new Error(`view: [${shape.join(', ')}] at ${offset} lies outside a tensor of ${b.data.length} elements`);
    }
    return new CpuTensor([...shape], b.dtype, b.data.subarray(offset, offset + n), true);
  }

  free(tensor: DeviceTensor): void {
    const t = asCpu(tensor, 'free');
    if (!t.isView) this.heap.release(t.data.byteOffset, Math.max(4, t.data.byteLength));
  }

  async synchronize(): Promise<void> {}

  async close(): Promise<void> {
    await this.pool.close();
  }

  embedding(out: DeviceTensor, table: DeviceTensor, ids: DeviceTensor): void {
    gather.embedding(out, table, ids);
  }

  matmul(out: DeviceTensor, x: DeviceTensor, w: DeviceTensor): void {
    const [m, k] = rowsCols(x);
    const [n, wk] = rowsCols(w);
    const [om, on] = rowsCols(out);
    if (wk !== k || om !== m || on !== n) {
      throw new Error(`matmul: x [${x.shape.join(', ')}] · w [${w.shape.join(', ')}]ᵀ does not fit out [${out.shape.join(', ')}]`);
    }
    this.pool.run(f32(x, 'matmul x'), f32(w, 'matmul w'), f32(out, 'matmul out'), m, n, k);
  }

  uploadLinear(w: HostTensor | Fp8HostWeight, opts: { readonly quantize?: LinearQuantization } = {}): LinearWeight {
    const alloc = (shape: readonly number[]) => this.alloc(shape, 'f32');
    if (isFp8HostWeight(w)) {
      if (opts.quantize) throw new Error(`uploadLinear: ${w.data.name} is already fp8`);
      return uploadFp8(w, alloc);
    }
    return uploadDense(w, opts.quantize, alloc);
  }

  asLinear(w: DeviceTensor): LinearWeight {
    const t = asCpu(w, 'linear weight');
    return new TensorLinear(t, 'dense', 4 * t.data.length, false);
  }

  quantizeLinear(dense: DeviceTensor): LinearWeight {
    const [rows, cols] = rowsCols(dense);
    if (dense.shape.length !== 2) throw new Error(`quantizeLinear: expected a matrix [out, in], got [${dense.shape.join(', ')}]`);
    return quantizeToFp8(f32(dense, 'quantizeLinear dense'), rows, cols, (shape) => this.alloc(shape, 'f32'));
  }

  /** Every weight is f32 here, FP8 ones too (dequantized at upload). */
  linearBytes(shape: readonly [number, number], _format: 'dense' | 'fp8', _dtype: WeightDType): number {
    return 4 * shape[0] * shape[1];
  }

  linear(out: DeviceTensor, x: DeviceTensor, w: LinearWeight): void {
    this.matmul(out, x, asTensorLinear(w, this.name).tensor);
  }

  linearRows(w: LinearWeight, rowStart: number, rows: number): LinearWeight {
    return tensorLinearRows(asTensorLinear(w, this.name), rowStart, rows, (b, shape, offset) => this.view(b, shape, offset));
  }

  freeLinear(w: LinearWeight): void {
    const t = asTensorLinear(w, this.name);
    if (t.owned) this.free(t.tensor);
  }

  add(out: DeviceTensor, a: DeviceTensor, b: DeviceTensor): void {
    ew.add(out, a, b);
  }

  rmsNorm(out: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number): void {
    ew.rmsNorm(out, x, weight, eps);
  }

  addRmsNorm(out: DeviceTensor, residual: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number): void {
    ew.addRmsNorm(out, residual, x, weight, eps);
  }

  ropeText(q: DeviceTensor, k: DeviceTensor, positions: DeviceTensor, numHeads: number, numKvHeads: number, headDim: number, theta: number): void {
    ew.ropeText(q, k, positions, numHeads, numKvHeads, headDim, theta);
  }

  ropeVision(q: DeviceTensor, k: DeviceTensor, patchRows: DeviceTensor, patchCols: DeviceTensor, numHeads: number, headDim: number, theta: number): void {
    ew.ropeVision(q, k, patchRows, patchCols, numHeads, headDim, theta);
  }

  linearRopeWriteKv(a: LinearRopeWriteKvArgs): void {
    linearRopeWriteKvUnfused(this, a);
  }

  linearSiluAndMul(out: DeviceTensor, gateUp: DeviceTensor, x: DeviceTensor, w: LinearWeight): void {
    this.linear(gateUp, x, w);
    this.siluAndMul(out, gateUp);
  }

  siluAndMul(out: DeviceTensor, x: DeviceTensor): void {
    ew.siluAndMul(out, x);
  }

  gelu(out: DeviceTensor, x: DeviceTensor): void {
    ew.gelu(out, x);
  }

  writeKv(kCache: DeviceTensor, vCache: DeviceTensor, k: DeviceTensor, v: DeviceTensor, slotMapping: DeviceTensor): void {
    gather.writeKv(kCache, vCache, k, v, slotMapping);
  }

  pagedAttention(args: PagedAttentionArgs): void {
    pagedAttention(args);
  }

  visionAttention(args: VisionAttentionArgs): void {
    visionAttention(args);
  }

  patchify(out: DeviceTensor, pixels: DeviceTensor, spans: ImageSpans, patch: number): void {
    gather.patchify(out, pixels, spans, patch);
  }

  patchMerge(out: DeviceTensor, x: DeviceTensor, spans: ImageSpans, merge: number): void {
    gather.patchMerge(out, x, spans, merge);
  }

  gatherRows(out: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void {
    gather.gatherRows(out, src, rows);
  }

  scatterRows(dst: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void {
    gather.scatterRows(dst, src, rows);
  }

  async sample(logits: DeviceTensor, requests: readonly SampleRequest[]): Promise<SampledToken[]> {
    const rows = logitRows(logits);
    return requests.map((r) => sampleRow(rows(r.row), r.params));
  }

  async score(logits: DeviceTensor, requests: readonly ScoreRequest[]): Promise<TokenLogprobs[]> {
    const rows = logitRows(logits);
    return requests.map((r) => tokenLogprobs(rows(r.row), r.targetTokenId, r.numLogprobs));
  }
}

function logitRows(logits: DeviceTensor): (row: number) => Float32Array {
  const data = f32(logits, 'logits');
  const [rows, vocab] = rowsCols(logits);
  return (row) => {
    if (!(row >= 0 && row < rows)) throw new Error(`logits row ${row} outside [0, ${rows})`);
    return data.subarray(row * vocab, (row + 1) * vocab);
  };
}

/** A CpuBackend with the given options (threads). */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  return new CpuBackend(options);
}
