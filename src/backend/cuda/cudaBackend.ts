// The CUDA backend: bf16 activations and weights on one GPU, ops as kernels on one stream
// (compiled from kernels/*.cu by NVRTC) and matmuls through cuBLASLt. Ops are asynchronous;
// `download`, `sample`, `score` and `synchronize` wait for the stream.
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
  RecordedGraph,
  SampleRequest,
  ScoreRequest,
  VisionAttentionArgs,
  WeightSink,
} from '../backend.js';
import type { HostTensor } from '../hostTensor.js';
import type { SampledToken, TokenLogprobs } from '../sampling/types.js';
import { decodeToF32 } from '../dtypeConvert.js';
import { CudaContext, type CudaContextOptions } from './cudaContext.js';
import { CudaTensor, DTYPE_BYTES, asCuda, bf16ToF32, checkNumel, f32ToBf16 } from './cudaTensor.js';
import { numel, rowsCols } from '../tensorShape.js';
import { CudaSampler } from './cudaSampling.js';
import { launchPatchify } from './patchifyOp.js';
import { CudaAttention, type AttentionOptions } from './attentionOps.js';
export type { FlashVariant } from './attentionOps.js';
import type { LaunchDims } from './ffi/launchArgs.js';
import { CudaError } from './ffi/errors.js';
import { CUBLAS_STATUS_NOT_SUPPORTED } from './ffi/cublasLt.js';
import type { DummyFillSpec } from '../dummyFill.js';
import { CudaWeightSink } from './cudaWeightSink.js';
import { linearRopeWriteKvUnfused } from '../linearRopeWriteKv.js';
import { asTensorLinear, TensorLinear, tensorLinearRows } from '../tensorLinear.js';
import type { WeightDType } from '../hostTensor.js';
import { CudaFp8Linear, CudaFp8Ops, DEFAULT_SPLIT_K_BYTES, DEFAULT_BF16_GEMV_MAX_ROWS, type Fp8SkinnyKernel } from './fp8Linear.js';

const CUDA_ERROR_OUT_OF_MEMORY = 2;

/** Options of the CUDA backend (device, waiting mode, kernel thresholds). */
export interface CudaBackendOptions extends CudaContextOptions, AttentionOptions {
  /** Fill every new allocation with 0xff bytes (NaN in bf16/f32, -1 in i32) so a test
   *  sees any element an op failed to write. */
  readonly poisonAllocations?: boolean;
  /** Matmuls with at most this many rows of x (and k % 8 == 0, 16-byte aligned operands) use
   *  the gemv kernel instead of cuBLASLt. Default 2: on the H100 it beat cuBLASLt at every
   *  M = 1 and M = 2 decode shape measured, and lost at M = 4 and 8 (bench/notes/cuda.md).
   *  0 disables; at most 8. */
  readonly gemvMaxRows?: number;
  /** Gemv calls with at most 2 rows of x and n <= this take the split-K gemv kernel (each
   *  CTA's warps share 4 rows' k), which keeps more loads in flight on narrow matrices.
   *  Default 8192 (the decode shapes qkv, o_proj and down); 0 disables. (The composition root
   *  maps TRAMONTANE_GEMV_SPLITK_MAX_N to this, for A/B benchmarks.) */
  readonly gemvSplitKMaxN?: number;
  /** Linear layers with FP8 weights and at most this many rows of x use the skinny kernel
   *  (fp8SkinnyKernel); above, cuBLASLt's FP8 GEMM. Default DEFAULT_FP8_GEMV_MAX_ROWS; at
   *  most 16. */
  readonly fp8GemvMaxRows?: number;
  /** The skinny FP8 kernel: 'mma' (default; tensor cores on per-token FP8 activations, sm_89+)
   *  or 'gemv' (bf16 activations; what GPUs before sm_89 always use). */
  readonly fp8SkinnyKernel?: Fp8SkinnyKernel;
  /** The skinny FP8 kernel splits rows longer than twice this many bytes (k) into pieces of
   *  about this size, a CTA each. Default DEFAULT_SPLIT_K_BYTES; 0 never splits. */
  readonly fp8SplitKBytes?: number;
  /** The FP8 skinny kernel and GEMV load their first weights before their programmatic-launch
   *  wait (once no weight write can still be running). Default true; false for A/B measurements. */
  readonly fp8WeightPreload?: boolean;
  /** FP8 linears of at most this many rows (a decode token's) take the GEMV on bf16 activations
   *  instead of per-token quantization + the tensor cores. Default DEFAULT_BF16_GEMV_MAX_ROWS
   *  (1); 0: always the tensor cores on sm_89+. */
  readonly fp8Bf16GemvMaxRows?: number;
}

/** The tensor-core skinny kernel reads each weight byte once for up to 16 rows of x
 *  (bench/notes/fp8.md). */
const DEFAULT_FP8_GEMV_MAX_ROWS = 16;

const DEFAULT_GEMV_SPLITK_MAX_N = 8192;


const ELEMENTWISE_BLOCK = 256;

/** The CUDA backend for one NVIDIA GPU: NVRTC kernels and cuBLASLt through koffi. Create with createCudaBackend. */
export class CudaBackend implements Backend {
  readonly name = 'cuda';
  readonly activationDType = 'bf16' as const;
  readonly ctx: CudaContext;
  private readonly owned = new Set<CudaTensor>();
  /** Freed tensors whose memory goes back to the driver at the next host synchronisation
   *  (a stream-ordered free without stalling the stream: earlier ops may still read them). */
  private readonly pendingFrees: CudaTensor[] = [];
  private readonly sampler: CudaSampler;
  private closed = false;

  private readonly gemvSplitKMaxN: number;
  private readonly attention: CudaAttention;
  /** FP8 linear weights: upload, device quantization, GEMV / FP8 GEMM. */
  readonly fp8: CudaFp8Ops;

  constructor(private readonly options: CudaBackendOptions = {}) {
    this.gemvSplitKMaxN = options.gemvSplitKMaxN ?? DEFAULT_GEMV_SPLITK_MAX_N;
    if (!(this.gemvSplitKMaxN >= 0)) throw new Error(`gemvSplitKMaxN must be a number >= 0 (got ${options.gemvSplitKMaxN})`);
    this.ctx = new CudaContext(options);
    this.sampler = new CudaSampler(this.ctx);
    this.attention = new CudaAttention(this.ctx, options);
    this.fp8 = new CudaFp8Ops(
      { ctx: this.ctx, allocBytes: (bytes) => this.alloc([Math.ceil(bytes / 4)], 'i32') as CudaTensor, free: (t) => this.free(t) },
      options.fp8GemvMaxRows ?? DEFAULT_FP8_GEMV_MAX_ROWS,
      options.fp8SkinnyKernel ?? 'mma',
      options.fp8SplitKBytes ?? DEFAULT_SPLIT_K_BYTES,
      options.fp8WeightPreload ?? true,
      options.fp8Bf16GemvMaxRows ?? DEFAULT_BF16_GEMV_MAX_ROWS,
    );
  }

  get deviceName(): string {
    return this.ctx.info.name;
  }

  /** The GPU by name, and whether cuBLASLt autotuning ran. */
  describe(): BackendDescription {
    return { device: this.deviceName, threads: null, details: { cublas_autotune: this.ctx.cublasAutotuned(), programmatic_launch: this.ctx.programmaticLaunch } };
  }

  /** Ops can run as soon as the context exists. */
  async ready(): Promise<void> {}

  private get stream(): bigint {
    return this.ctx.stream;
  }

  // ---- memory ----------------------------------------------------------------------------

  /** The GPU's free and total memory in bytes. */
  memoryInfo(): DeviceMemoryInfo {
    return this.ctx.driver.memInfo();
  }

  alloc(shape: readonly number[], dtype: DType): DeviceTensor {
    if (dtype === 'f16') throw new Error('cuda backend stores bf16, f32 and i32 tensors (asked for f16)');
    const n = numel(shape);
    const bytes = Math.max(16, n * DTYPE_BYTES[dtype]);
    let ptr: bigint;
    try {
      ptr = this.ctx.driver.malloc(bytes);
    } catch (err) {
      if (!(err instanceof CudaError && err.code === CUDA_ERROR_OUT_OF_MEMORY)) throw err;
      this.releasePendingFrees(true);
      try {
        ptr = this.ctx.driver.malloc(bytes);
      } catch {
        const gib = (b: number) => (b / 2 ** 30).toFixed(2);
        const { freeBytes } = this.ctx.driver.memInfo();
        throw new Error(`cuda alloc of [${shape.join(', ')}] ${dtype}: needs ${gib(bytes)} GiB, ${gib(freeBytes)} GiB free on ${this.deviceName}`);
      }
    }
    const t = new CudaTensor([...shape], dtype, ptr, n, false);
    this.owned.add(t);
    if (this.options.poisonAllocations) this.ctx.driver.memsetD8(t.ptr, 0xff, bytes, this.stream);
    return t;
  }

  createDummyWeight(parts: readonly DummyFillSpec[], shape?: readonly number[]): DeviceTensor {
    if (parts.length === 0) throw new Error('createDummyWeight: no parts');
    const cols = parts[0].shape.slice(1);
    for (const p of parts) {
      if (p.shape.slice(1).join() !== cols.join()) throw new Error(`createDummyWeight: ${p.name} [${p.shape.join(', ')}] cannot stack with ${parts[0].name}`);
    }
    const rows = parts.reduce((a, p) => a + p.shape[0], 0);
    const n = rows * numel(cols);
    const target = shape ?? [rows, ...cols];
    if (numel(target) !== n) throw new Error(`createDummyWeight: cannot view ${n} elements as [${target.join(', ')}]`);
    const t = this.alloc(target, 'bf16') as CudaTensor;
    let offset = 0;
    for (const p of parts) {
      const count = numel(p.shape);
      if (count > 2 ** 32) throw new Error(`createDummyWeight: ${p.name} has ${count} elements (the generator indexes with 32 bits)`);
      const blocks = Math.max(1, Math.min(Math.ceil(count / 256), this.ctx.info.multiprocessorCount * 16));
      this.ctx.noteWeightWrite();
      this.launch('fill.cu', 'fill_dummy_bf16', ['ptr', 'i64', 'u32', 'u32', 'f32', 'f32'], { grid: [blocks, 1, 1], block: [256, 1, 1] },
        [t.ptr + BigInt(offset * 2), count, 0, p.key >>> 0, p.scale, p.offset]);
      offset += count;
    }
    return t;
  }

  uploadWeight(tensor: HostTensor, shape?: readonly number[]): DeviceTensor {
    if (tensor.dtype === 'f8_e4m3') throw new Error(`weight ${tensor.name}: f8_e4m3 data needs its scales (uploadLinear)`);
    const target = shape ?? tensor.shape;
    const n = numel(tensor.shape);
    if (numel(target) !== n) {
      throw new Error(`weight ${tensor.name}: cannot view [${tensor.shape.join(', ')}] as [${target.join(', ')}]`);
    }
    const t = this.alloc(target, 'bf16') as CudaTensor;
    if (tensor.dtype === 'bf16') {
      if (tensor.data.byteLength !== 2 * n) throw new Error(`weight ${tensor.name}: ${tensor.data.byteLength} bytes for ${n} bf16 values`);
      this.ctx.driver.copyHtoD(t.ptr, tensor.data, this.stream);
    } else {
      const f = new Float32Array(n);
      decodeToF32(tensor.data, tensor.dtype, f);
      this.ctx.driver.copyHtoD(t.ptr, f32ToBf16(f), this.stream);
    }
    return t;
  }

  createWeightSink(): WeightSink {
    return new CudaWeightSink(this.ctx, (shape) => this.alloc(shape, 'bf16'));
  }

  write(dst: DeviceTensor, data: Float32Array | Int32Array, offset = 0): void {
    const t = asCuda(dst, 'write dst');
    if ((t.dtype === 'i32') !== data instanceof Int32Array) throw new Error(`write: ${data.constructor.name} into a ${t.dtype} tensor`);
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > t.numel) {
      throw new Error(`write: ${data.length} elements at ${offset} overflow a tensor of ${t.numel}`);
    }
    if (data.length === 0) return;
    const host = t.dtype === 'bf16' ? f32ToBf16(data as Float32Array) : data;
    this.ctx.driver.copyHtoD(t.ptr + BigInt(offset * DTYPE_BYTES[t.dtype]), host, this.stream);
  }

  async download(src: DeviceTensor): Promise<Float32Array | Int32Array> {
    const t = asCuda(src, 'download src');
    const d = this.ctx.driver;
    if (t.numel === 0) return t.dtype === 'i32' ? new Int32Array(0) : new Float32Array(0);
    if (t.dtype === 'bf16') {
      const bits = new Uint16Array(t.numel);
      d.copyDtoH(bits, t.ptr, this.stream);
      this.ctx.synchronize();
      this.releasePendingFrees(false);
      return bf16ToF32(bits);
    }
    const out = t.dtype === 'i32' ? new Int32Array(t.numel) : new Float32Array(t.numel);
    d.copyDtoH(out, t.ptr, this.stream);
    this.ctx.synchronize();
    this.releasePendingFrees(false);
    return out;
  }

  view(base: DeviceTensor, shape: readonly number[], offset = 0): DeviceTensor {
    const b = asCuda(base, 'view base');
    const n = numel(shape);
    if (!Number.isInteger(offset) || offset < 0 || offset + n > b.numel) {
      throw new Error(`view: [${shape.join(', ')}] at ${offset} lies outside a tensor of ${b.numel} elements`);
    }
    return new CudaTensor([...shape], b.dtype, b.ptr + BigInt(offset * DTYPE_BYTES[b.dtype]), n, true);
  }

  free(tensor: DeviceTensor): void {
    const t = asCuda(tensor, 'free');
    if (t.isView || !this.owned.has(t)) return;
    this.owned.delete(t);
    this.pendingFrees.push(t);
  }

  /** Returns freed tensors' memory to the driver; `wait`: synchronise the stream first (else
   *  the caller has just synchronised it). */
  private releasePendingFrees(wait: boolean): void {
    if (this.pendingFrees.length === 0) return;
    if (wait) this.ctx.synchronize();
    for (const t of this.pendingFrees.splice(0)) this.ctx.driver.free(t.ptr);
  }

  async synchronize(): Promise<void> {
    this.ctx.synchronize();
    this.releasePendingFrees(false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx.synchronize();
    this.releasePendingFrees(false);
    for (const t of this.owned) this.ctx.driver.free(t.ptr);
    this.owned.clear();
    this.ctx.close();
  }

  captureGraph(record: () => void): RecordedGraph {
    if (this.closed) throw new Error('cuda backend is closed');
    const d = this.ctx.driver;
    d.beginCapture(this.stream);
    try {
      record();
    } catch (err) {
      try {
        d.destroyGraph(d.endCapture(this.stream));
      } catch {
        // the capture was invalidated: the original error says why
      }
      throw err;
    }
    const graph = d.endCapture(this.stream);
    let exec: bigint;
    try {
      exec = d.instantiateGraph(graph);
    } finally {
      d.destroyGraph(graph);
    }
    let disposed = false;
    return {
      replay: () => {
        if (disposed || this.closed) throw new Error('replay of a disposed graph');
        d.launchGraph(exec, this.stream);
      },
      dispose: () => {
        if (disposed || this.closed) return;
        disposed = true;
        d.destroyGraphExec(exec);
      },
    };
  }

  // ---- launch helpers --------------------------------------------------------------------

  private launch(file: string, name: string, types: Parameters<CudaContext['kernels']['kernel']>[2], dims: LaunchDims, args: (bigint | number)[]): void {
    this.ctx.kernels.kernel(file, name, types).launch(dims, this.stream, args);
  }

  private elementwiseDims(count: number): LaunchDims {
    const blocks = Math.max(1, Math.min(Math.ceil(count / ELEMENTWISE_BLOCK), this.ctx.info.multiprocessorCount * 32));
    return { grid: [blocks, 1, 1], block: [ELEMENTWISE_BLOCK, 1, 1] };
  }

  private rowBlock(width: number): [number, number, number] {
    return [Math.min(1024, Math.max(32, 32 * Math.ceil(width / 4 / 32))), 1, 1];
  }

  /** A norm row's block: for rows of whole 8-element chunks, about two chunks a thread (the
   *  kernel's register-cached path holds up to NORM_CACHED = 4: rows to 32768); else rowBlock. */
  private normBlock(d: number): [number, number, number] {
    if (d % 8 !== 0 || d > 32768) return this.rowBlock(d);
    return [Math.min(1024, Math.max(32, 32 * Math.ceil(d / 8 / 2 / 32))), 1, 1];
  }

  // ---- ops -------------------------------------------------------------------------------

  embedding(out: DeviceTensor, table: DeviceTensor, ids: DeviceTensor): void {
    const o = asCuda(out, 'embedding out', 'bf16');
    const tb = asCuda(table, 'embedding table', 'bf16');
    const id = asCuda(ids, 'embedding ids', 'i32');
    const [vocab, hidden] = rowsCols(tb);
    checkNumel(o, id.numel * hidden, 'embedding out');
    if (id.numel === 0) return;
    this.launch('embedding.cu', 'embedding_bf16', ['ptr', 'ptr', 'ptr', 'i32', 'i32'], { grid: [id.numel, 1, 1], block: this.rowBlock(hidden / 2) }, [o.ptr, tb.ptr, id.ptr, hidden, vocab]);
  }

  matmul(out: DeviceTensor, x: DeviceTensor, w: DeviceTensor): void {
    const o = asCuda(out, 'matmul out', ['bf16', 'f32']);
    const xt = asCuda(x, 'matmul x', 'bf16');
    const wt = asCuda(w, 'matmul w', 'bf16');
    const [m, k] = rowsCols(xt);
    const [n, wk] = rowsCols(wt);
    const [om, on] = rowsCols(o);
    if (wk !== k || om !== m || on !== n) {
      throw new Error(`matmul: x [${x.shape.join(', ')}] · w [${w.shape.join(', ')}]ᵀ does not fit out [${out.shape.join(', ')}]`);
    }
    if (m === 0 || n === 0) return;
    const outType = o.dtype === 'f32' ? 'f32' : 'bf16';
    if (m <= Math.min(8, this.options.gemvMaxRows ?? 2) && this.gemvFits(xt, wt, k)) {
      this.gemv(o, xt, wt);
      return;
    }
    if (!this.noGemmAlgo.has(`${m}x${n}x${k}:${outType}`)) {
      try {
        this.ctx.cublas.linear(o.ptr, xt.ptr, wt.ptr, m, n, k, this.stream, outType);
        return;
      } catch (err) {
        // Odd leading dimensions can leave cuBLASLt without an algorithm: use the plain kernel.
        if (!(err instanceof CudaError && err.code === CUBLAS_STATUS_NOT_SUPPORTED)) throw err;
        this.noGemmAlgo.add(`${m}x${n}x${k}:${outType}`);
      }
    }
    this.launch('gemm_fallback.cu', `gemm_rowwise_${outType}`, ['ptr', 'ptr', 'ptr', 'i32', 'i32'], { grid: [Math.ceil(n / 8), m, 1], block: [256, 1, 1] }, [o.ptr, xt.ptr, wt.ptr, n, k]);
  }

  uploadLinear(w: HostTensor | Fp8HostWeight, opts: { readonly quantize?: LinearQuantization } = {}): LinearWeight {
    if ('scales' in w) {
      const d = w.data;
      if (d.dtype !== 'f8_e4m3' || d.shape.length !== 2) throw new Error(`fp8 weight ${d.name}: expected f8_e4m3 [out, in], got ${d.dtype} [${d.shape.join(', ')}]`);
      const bytes = new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength);
      return this.fp8.upload(bytes, w.scales, d.shape[0], d.shape[1]);
    }
    if (w.shape.length !== 2) throw new Error(`linear weight ${w.name}: expected a matrix [out, in], got [${w.shape.join(', ')}]`);
    const t = this.uploadWeight(w);
    if (opts.quantize === undefined) return new TensorLinear(t, 'dense', 2 * numel(t.shape), true);
    if (opts.quantize !== 'fp8') throw new Error(`linear weight ${w.name}: unknown quantization ${String(opts.quantize)}`);
    // Quantized from the bf16 copy, as the host rule quantizes the checkpoint's values rounded
    // to the activation dtype; the dense copy is freed behind the kernel (stream-ordered).
    try {
      return this.fp8.quantize(t as CudaTensor);
    } finally {
      this.free(t);
    }
  }

  quantizeLinear(dense: DeviceTensor): LinearWeight {
    return this.fp8.quantize(asCuda(dense, 'quantizeLinear weight', 'bf16'));
  }

  asLinear(w: DeviceTensor): LinearWeight {
    const t = asCuda(w, 'linear weight', 'bf16');
    return new TensorLinear(t, 'dense', 2 * t.numel, false);
  }

  /** Dense weights are bf16 whatever the checkpoint's dtype; FP8: one byte an element and an
   *  f32 scale a row. */
  linearBytes(shape: readonly [number, number], format: 'dense' | 'fp8', _dtype: WeightDType): number {
    return format === 'fp8' ? shape[0] * shape[1] + 4 * shape[0] : 2 * shape[0] * shape[1];
  }

  linear(out: DeviceTensor, x: DeviceTensor, w: LinearWeight): void {
    if (w instanceof CudaFp8Linear) this.fp8.linear(asCuda(out, 'linear out'), asCuda(x, 'linear x'), w);
    else this.matmul(out, x, asTensorLinear(w, this.name).tensor);
  }

  linearRows(w: LinearWeight, rowStart: number, rows: number): LinearWeight {
    if (w instanceof CudaFp8Linear) return this.fp8.rows(w, rowStart, rows);
    return tensorLinearRows(asTensorLinear(w, this.name), rowStart, rows, (b, shape, offset) => this.view(b, shape, offset));
  }

  freeLinear(w: LinearWeight): void {
    if (w instanceof CudaFp8Linear) {
      this.fp8.free(w);
      return;
    }
    const t = asTensorLinear(w, this.name);
    if (t.owned) this.free(t.tensor);
  }

  private gemvFits(x: CudaTensor, w: CudaTensor, k: number): boolean {
    return k % 8 === 0 && (x.ptr | w.ptr) % 16n === 0n;
  }

  /** out[m, n] = x[m, k] · w[n, k]ᵀ by the gemv kernel (m <= 8, k % 8 == 0, 16-byte aligned),
   *  whatever the matmul policy; public for benchmarks and tests. */
  gemv(out: DeviceTensor, x: DeviceTensor, w: DeviceTensor): void {
    const o = asCuda(out, 'gemv out', ['bf16', 'f32']);
    const xt = asCuda(x, 'gemv x', 'bf16');
    const wt = asCuda(w, 'gemv w', 'bf16');
    const [m, k] = rowsCols(xt);
    const [n, wk] = rowsCols(wt);
    if (wk !== k || o.numel !== m * n) throw new Error(`gemv: x [${x.shape.join(', ')}] · w [${w.shape.join(', ')}]ᵀ does not fit out [${out.shape.join(', ')}]`);
    if (m > 8 || !this.gemvFits(xt, wt, k)) throw new Error(`gemv: needs m <= 8 (got ${m}), k % 8 == 0 (got ${k}) and 16-byte aligned operands`);
    const mt = m <= 1 ? 1 : m <= 2 ? 2 : m <= 4 ? 4 : 8;
    if (mt <= 2 && n <= this.gemvSplitKMaxN) {
      this.launch('gemv.cu', `gemv_sk_m${mt}_${o.dtype}`, ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], { grid: [Math.ceil(n / 4), 1, 1], block: [256, 1, 1] }, [o.ptr, xt.ptr, wt.ptr, m, n, k]);
      return;
    }
    this.launch('gemv.cu', `gemv_m${mt}_${o.dtype}`, ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32'], { grid: [Math.ceil(n / 16), 1, 1], block: [256, 1, 1] }, [o.ptr, xt.ptr, wt.ptr, m, n, k]);
  }

  /** GEMM shapes cuBLASLt has no algorithm for (they take the fallback kernel). */
  private readonly noGemmAlgo = new Set<string>();

  add(out: DeviceTensor, a: DeviceTensor, b: DeviceTensor): void {
    const o = asCuda(out, 'add out', ['bf16', 'f32']);
    const at = asCuda(a, 'add a', o.dtype);
    const bt = asCuda(b, 'add b', o.dtype);
    checkNumel(at, o.numel, 'add a');
    checkNumel(bt, o.numel, 'add b');
    if (o.numel === 0) return;
    const name = o.dtype === 'bf16' ? 'add_bf16' : 'add_f32';
    this.launch('rmsnorm.cu', name, ['ptr', 'ptr', 'ptr', 'i64'], this.elementwiseDims(o.numel), [o.ptr, at.ptr, bt.ptr, o.numel]);
  }

  rmsNorm(out: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number, feeds?: LinearWeight): void {
    const o = asCuda(out, 'rmsNorm out', 'bf16');
    const xt = asCuda(x, 'rmsNorm x', 'bf16');
    const wt = asCuda(weight, 'rmsNorm weight', 'bf16');
    const [n, d] = rowsCols(xt);
    checkNumel(o, n * d, 'rmsNorm out');
    checkNumel(wt, d, 'rmsNorm weight');
    if (n === 0) return;
    const q = this.fp8.prepareOutput(o, n, d, feeds);
    const dims: LaunchDims = { grid: [n, 1, 1], block: this.normBlock(d) };
    if (q) this.launch('rmsnorm.cu', 'rms_norm_q_bf16', ['ptr', 'ptr', 'ptr', 'i32', 'f32', 'ptr', 'ptr'], dims, [o.ptr, xt.ptr, wt.ptr, d, eps, q.codes, q.scales]);
    else this.launch('rmsnorm.cu', 'rms_norm_bf16', ['ptr', 'ptr', 'ptr', 'i32', 'f32'], dims, [o.ptr, xt.ptr, wt.ptr, d, eps]);
  }

  addRmsNorm(out: DeviceTensor, residual: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number, feeds?: LinearWeight): void {
    const o = asCuda(out, 'addRmsNorm out', 'bf16');
    const r = asCuda(residual, 'addRmsNorm residual', 'bf16');
    const xt = asCuda(x, 'addRmsNorm x', 'bf16');
    const wt = asCuda(weight, 'addRmsNorm weight', 'bf16');
    const [n, d] = rowsCols(r);
    checkNumel(o, n * d, 'addRmsNorm out');
    checkNumel(xt, n * d, 'addRmsNorm x');
    checkNumel(wt, d, 'addRmsNorm weight');
    if (n === 0) return;
    const q = this.fp8.prepareOutput(o, n, d, feeds);
    const dims: LaunchDims = { grid: [n, 1, 1], block: this.normBlock(d) };
    if (q) this.launch('rmsnorm.cu', 'add_rms_norm_q_bf16', ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'f32', 'ptr', 'ptr'], dims, [o.ptr, r.ptr, xt.ptr, wt.ptr, d, eps, q.codes, q.scales]);
    else this.launch('rmsnorm.cu', 'add_rms_norm_bf16', ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'f32'], dims, [o.ptr, r.ptr, xt.ptr, wt.ptr, d, eps]);
  }

  ropeText(q: DeviceTensor, k: DeviceTensor, positions: DeviceTensor, numHeads: number, numKvHeads: number, headDim: number, theta: number): void {
    const qt = asCuda(q, 'ropeText q', 'bf16');
    const kt = asCuda(k, 'ropeText k', 'bf16');
    const pos = asCuda(positions, 'ropeText positions', 'i32');
    const n = pos.numel;
    checkNumel(qt, n * numHeads * headDim, 'ropeText q');
    checkNumel(kt, n * numKvHeads * headDim, 'ropeText k');
    if (headDim % 2 !== 0) throw new Error(`ropeText: headDim ${headDim} is odd`);
    if (n === 0) return;
    const block = Math.min(1024, 32 * Math.ceil(headDim / 2 / 32));
    this.launch('rope.cu', 'rope_text_bf16', ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'f32'], { grid: [n, numHeads + numKvHeads, 1], block: [block, 1, 1] }, [qt.ptr, kt.ptr, pos.ptr, numHeads, numKvHeads, headDim, theta]);
  }

  ropeVision(q: DeviceTensor, k: DeviceTensor, patchRows: DeviceTensor, patchCols: DeviceTensor, numHeads: number, headDim: number, theta: number): void {
    const qt = asCuda(q, 'ropeVision q', 'bf16');
    const kt = asCuda(k, 'ropeVision k', 'bf16');
    const pr = asCuda(patchRows, 'ropeVision patchRows', 'i32');
    const pc = asCuda(patchCols, 'ropeVision patchCols', 'i32');
    const n = pr.numel;
    checkNumel(pc, n, 'ropeVision patchCols');
    checkNumel(qt, n * numHeads * headDim, 'ropeVision q');
    checkNumel(kt, n * numHeads * headDim, 'ropeVision k');
    if (headDim % 4 !== 0) throw new Error(`ropeVision: headDim ${headDim} is not a multiple of 4`);
    if (n === 0) return;
    this.launch('rope.cu', 'rope_vision_bf16', ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'f32'], { grid: [n, 1, 1], block: this.rowBlock(numHeads * headDim * 4) }, [qt.ptr, kt.ptr, pr.ptr, pc.ptr, numHeads, headDim, theta]);
  }

  linearRopeWriteKv(a: LinearRopeWriteKvArgs): void {
    if (a.w instanceof CudaFp8Linear && this.fp8.linearRopeWriteKv(a, a.w)) return;
    linearRopeWriteKvUnfused(this, a);
  }

  linearSiluAndMul(out: DeviceTensor, gateUp: DeviceTensor, x: DeviceTensor, w: LinearWeight, feeds?: LinearWeight): void {
    if (w instanceof CudaFp8Linear && this.fp8.linearSiluAndMul(asCuda(out, 'linearSiluAndMul out', 'bf16'), asCuda(x, 'linearSiluAndMul x', 'bf16'), w)) return;
    this.linear(gateUp, x, w);
    this.siluAndMul(out, gateUp, feeds);
  }

  siluAndMul(out: DeviceTensor, x: DeviceTensor, feeds?: LinearWeight): void {
    const o = asCuda(out, 'siluAndMul out', 'bf16');
    const xt = asCuda(x, 'siluAndMul x', 'bf16');
    const [n, d] = rowsCols(o);
    checkNumel(xt, n * 2 * d, 'siluAndMul x');
    if (o.numel === 0) return;
    // The fused form needs one block a row (the absmax before any code): at decode sizes that is
    // one SM doing what the plain kernel spreads over all of them, slower than the plain kernel
    // plus linear()'s own quantization pass (H200, m = 1: 9.6 µs against 1.6 + 3.5). Fused only
    // above the skinny kernel's rows, where it is free (m = 64: 10.1 against 10.6 plain).
    const q = this.fp8.prepareOutput(o, n, d, n > this.fp8.gemvMaxRows ? feeds : undefined);
    if (q) {
      this.launch('activation.cu', 'silu_and_mul_q_bf16', ['ptr', 'ptr', 'i32', 'ptr', 'ptr'], { grid: [n, 1, 1], block: this.rowBlock(d) }, [o.ptr, xt.ptr, d, q.codes, q.scales]);
      return;
    }
    this.launch('activation.cu', 'silu_and_mul_bf16', ['ptr', 'ptr', 'i32', 'i64'], this.elementwiseDims(o.numel), [o.ptr, xt.ptr, d, o.numel]);
  }

  gelu(out: DeviceTensor, x: DeviceTensor): void {
    const o = asCuda(out, 'gelu out', 'bf16');
    const xt = asCuda(x, 'gelu x', 'bf16');
    checkNumel(xt, o.numel, 'gelu x');
    if (o.numel === 0) return;
    this.launch('activation.cu', 'gelu_bf16', ['ptr', 'ptr', 'i64'], this.elementwiseDims(o.numel), [o.ptr, xt.ptr, o.numel]);
  }

  writeKv(kCache: DeviceTensor, vCache: DeviceTensor, k: DeviceTensor, v: DeviceTensor, slotMapping: DeviceTensor): void {
    const kc = asCuda(kCache, 'writeKv kCache', 'bf16');
    const vc = asCuda(vCache, 'writeKv vCache', 'bf16');
    const kt = asCuda(k, 'writeKv k', 'bf16');
    const vt = asCuda(v, 'writeKv v', 'bf16');
    const slots = asCuda(slotMapping, 'writeKv slotMapping', 'i32');
    const width = kc.shape[2] * kc.shape[3];
    if (kc.shape.length !== 4 || vc.numel !== kc.numel) throw new Error(`writeKv: caches must both be [numBlocks, blockSize, kvHeads, headDim], got [${kc.shape.join(', ')}] and [${vc.shape.join(', ')}]`);
    checkNumel(kt, slots.numel * width, 'writeKv k');
    checkNumel(vt, slots.numel * width, 'writeKv v');
    if (slots.numel === 0) return;
    this.launch('kv_cache.cu', 'write_kv_bf16', ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i64'], { grid: [slots.numel, 1, 1], block: this.rowBlock(width / 2) }, [kc.ptr, vc.ptr, kt.ptr, vt.ptr, slots.ptr, width, kc.shape[0] * kc.shape[1]]);
  }

  pagedAttention(a: PagedAttentionArgs): void {
    this.attention.paged(a);
  }

  visionAttention(a: VisionAttentionArgs): void {
    this.attention.vision(a);
  }

  patchify(out: DeviceTensor, pixels: DeviceTensor, spans: ImageSpans, patch: number): void {
    launchPatchify(this.ctx, out, pixels, spans, patch);
  }

  patchMerge(out: DeviceTensor, x: DeviceTensor, spans: ImageSpans, merge: number): void {
    const o = asCuda(out, 'patchMerge out', 'bf16');
    const xt = asCuda(x, 'patchMerge x', 'bf16');
    const [numPatches, channels] = rowsCols(xt);
    const images = spans.gridRows.length;
    const info = new Int32Array(images * 4);
    const owner: number[] = [];
    let patch = 0;
    for (let i = 0; i < images; i++) {
      const [h, w] = [spans.gridRows[i], spans.gridCols[i]];
      if (h % merge || w % merge) throw new Error(`patchMerge: image ${i} grid ${h}x${w} is not a multiple of ${merge}`);
      info.set([patch, owner.length, h, w], i * 4);
      for (let r = 0; r < (h * w) / (merge * merge); r++) owner.push(i);
      patch += h * w;
    }
    if (patch !== numPatches) throw new Error(`patchMerge: grids hold ${patch} patches, x has ${numPatches}`);
    checkNumel(o, numPatches * channels, 'patchMerge out');
    if (owner.length === 0) return;
    const infoPtr = this.ctx.upload('patchMerge.info', info);
    const ownerPtr = this.ctx.upload('patchMerge.owner', Int32Array.from(owner));
    this.launch('patch_merge.cu', 'patch_merge_bf16', ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32'], { grid: [owner.length, 1, 1], block: this.rowBlock(channels * merge * merge) }, [o.ptr, xt.ptr, infoPtr, ownerPtr, channels, merge]);
  }

  gatherRows(out: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void {
    this.moveRows('gather_rows', out, src, rows, 'gatherRows');
  }

  scatterRows(dst: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void {
    this.moveRows('scatter_rows', dst, src, rows, 'scatterRows');
  }

  private moveRows(kernel: string, to: DeviceTensor, from: DeviceTensor, rows: DeviceTensor, what: string): void {
    const a = asCuda(to, `${what} destination`);
    const b = asCuda(from, `${what} source`, a.dtype);
    const r = asCuda(rows, `${what} rows`, 'i32');
    const [, d] = rowsCols(a);
    if (rowsCols(b)[1] !== d) throw new Error(`${what}: row widths ${d} and ${rowsCols(b)[1]} differ`);
    if (r.numel === 0) return;
    const rowBytes = d * DTYPE_BYTES[a.dtype];
    this.launch('embedding.cu', kernel, ['ptr', 'ptr', 'ptr', 'i32'], { grid: [r.numel, 1, 1], block: this.rowBlock(rowBytes) }, [a.ptr, b.ptr, r.ptr, rowBytes]);
  }

  // ---- logits -> tokens ---------------------------------------------------------------------

  async sample(logits: DeviceTensor, requests: readonly SampleRequest[]): Promise<SampledToken[]> {
    const out = await this.sampler.sample(asCuda(logits, 'sample logits', 'f32'), requests);
    if (requests.length > 0) this.releasePendingFrees(false); // the sampler synchronised the stream
    return out;
  }

  async score(logits: DeviceTensor, requests: readonly ScoreRequest[]): Promise<TokenLogprobs[]> {
    const out = await this.sampler.score(asCuda(logits, 'score logits', 'f32'), requests);
    if (requests.length > 0) this.releasePendingFrees(false);
    return out;
  }
}
