// The CUDA backend: bf16 activations and weights on one GPU, ops as kernels on one stream
// (compiled from kernels/*.cu by NVRTC) and matmuls through cuBLASLt. Ops are asynchronous;
// `download`, `sample`, `score` and `synchronize` wait for the stream.
import type {
  Backend,
  BackendDescription,
  DeviceMemoryInfo,
  DeviceTensor,
  DType,
  ImageSpans,
  PagedAttentionArgs,
  RecordedGraph,
  SampleRequest,
  ScoreRequest,
  VisionAttentionArgs,
} from '../backend.js';
import type { HostTensor } from '../../model/weights.js';
import type { SampledToken, TokenLogprobs } from '../../model/sampling.js';
import { decodeToF32 } from '../dtypeConvert.js';
import { CudaContext, type CudaContextOptions } from './cudaContext.js';
import { CudaTensor, DTYPE_BYTES, asCuda, bf16ToF32, checkNumel, f32ToBf16 } from './cudaTensor.js';
import { numel, rowsCols } from '../tensorShape.js';
import { CudaSampler } from './cudaSampling.js';
import { launchPatchify } from './patchifyOp.js';
import type { LaunchDims } from './ffi/launchArgs.js';
import { CudaError } from './ffi/errors.js';
import { CUBLAS_STATUS_NOT_SUPPORTED } from './ffi/cublasLt.js';
import type { DummyFillSpec } from '../../model/dummyWeights.js';

const CUDA_ERROR_OUT_OF_MEMORY = 2;

export interface CudaBackendOptions extends CudaContextOptions {
  /** Keys per split of the paged-attention context (forces the split-K path; tests use it).
   *  Default: split only when too few (token, head) rows would fill the GPU. */
  readonly attentionSplitLen?: number;
  /** Fill every new allocation with 0xff bytes (NaN in bf16/f32, -1 in i32) so a test
   *  sees any element an op failed to write. */
  readonly poisonAllocations?: boolean;
  /** Use the tensor-core flash kernels (head dims 64 and 128) for prefill and vision
   *  attention (default true); false keeps the warp-per-row kernels everywhere. */
  readonly flashAttention?: boolean;
  /** Flash-attention CTA shape (flash_attention.cu), 128 query rows each: 'w8' 8 warps x 16
   *  rows, key tiles of 64; 'w4' 4 warps x 32 rows (each K/V fragment feeds two m-tiles), key
   *  tiles of 64; 'w4k32' the same with key tiles of 32. Default: the fastest measured on the
   *  H100 (bench/notes/cuda.md, flash2 run 3): 'w4' at head dim 128, 'w4k32' at 64. All are
   *  tested; the benchmark compares them. */
  readonly flashVariant?: FlashVariant;
  /** Decode steps (maxQueryLen x GQA group <= 8, head dims 64 and 128) take the group-wise
   *  tensor-core kernel (decode_attention.cu: each K/V row read once per kv head) (default
   *  true); false keeps the warp-per-(row, head) kernel (paged_attention.cu). */
  readonly decodeAttention?: boolean;
  /** How decode_attention.cu merges context splits: 'fused' (default: the split CTA that
   *  finishes last for its sequence and kv head merges them, no second launch) or 'kernel'
   *  (the attention_combine launch). */
  readonly decodeCombine?: 'fused' | 'kernel';
  /** Matmuls with at most this many rows of x (and k % 8 == 0, 16-byte aligned operands) use
   *  the gemv kernel instead of cuBLASLt. Default 2: on the H100 it beat cuBLASLt at every
   *  M = 1 and M = 2 decode shape measured, and lost at M = 4 and 8 (bench/notes/cuda.md).
   *  0 disables; at most 8. */
  readonly gemvMaxRows?: number;
  /** Gemv calls with at most 2 rows of x and n <= this take the split-K gemv kernel (each
   *  CTA's warps share 4 rows' k), which keeps more loads in flight on narrow matrices.
   *  Default 8192 (the decode shapes qkv, o_proj and down); 0 disables. The environment
   *  variable TRAMONTANE_GEMV_SPLITK_MAX_N overrides the default (for A/B benchmarks). */
  readonly gemvSplitKMaxN?: number;
}

const DEFAULT_GEMV_SPLITK_MAX_N = 8192;

export type FlashVariant = 'w8' | 'w4' | 'w4k32';
/** Warps and key-tile length of each flash variant (kernel suffix: '' for w8, else _<variant>). */
const FLASH_VARIANTS: Record<FlashVariant, { warps: number; tileK: number }> = {
  w8: { warps: 8, tileK: 64 },
  w4: { warps: 4, tileK: 64 },
  w4k32: { warps: 4, tileK: 32 },
};

/** Query rows per sequence from which paged attention takes the flash kernel. */
const FLASH_MIN_QUERY_LEN = 16;

/** Query rows (query token x head of a GQA group) that one decode_attention.cu CTA holds. */
const DECODE_MAX_ROWS = 8;
/** Resident decode_attention CTAs per SM (its __launch_bounds__(128, 4)). */
const DECODE_CTAS_PER_SM = 4;
/** Most context splits decode_attention.cu merges (DA_MAX_SPLITS). */
const DECODE_MAX_SPLITS = 256;

const ELEMENTWISE_BLOCK = 256;

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
  private decodeCountersPtr = 0n;

  constructor(private readonly options: CudaBackendOptions = {}) {
    const env = process.env.TRAMONTANE_GEMV_SPLITK_MAX_N;
    this.gemvSplitKMaxN = options.gemvSplitKMaxN ?? (env !== undefined && env !== '' ? Number(env) : DEFAULT_GEMV_SPLITK_MAX_N);
    if (!(this.gemvSplitKMaxN >= 0)) throw new Error(`gemvSplitKMaxN must be a number >= 0 (got ${env ?? options.gemvSplitKMaxN})`);
    this.ctx = new CudaContext(options);
    this.sampler = new CudaSampler(this.ctx);
  }

  get deviceName(): string {
    return this.ctx.info.name;
  }

  describe(): BackendDescription {
    return { device: this.deviceName, threads: null, details: { cublas_autotune: this.ctx.cublasAutotuned() } };
  }

  /** Ops can run as soon as the context exists. */
  async ready(): Promise<void> {}

  private get stream(): bigint {
    return this.ctx.stream;
  }

  // ---- memory ----------------------------------------------------------------------------

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
      this.launch('fill.cu', 'fill_dummy_bf16', ['ptr', 'i64', 'u32', 'u32', 'f32', 'f32'], { grid: [blocks, 1, 1], block: [256, 1, 1] },
        [t.ptr + BigInt(offset * 2), count, 0, p.key >>> 0, p.scale, p.offset]);
      offset += count;
    }
    return t;
  }

  uploadWeight(tensor: HostTensor, shape?: readonly number[]): DeviceTensor {
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
      d.streamSynchronize(this.stream);
      this.releasePendingFrees(false);
      return bf16ToF32(bits);
    }
    const out = t.dtype === 'i32' ? new Int32Array(t.numel) : new Float32Array(t.numel);
    d.copyDtoH(out, t.ptr, this.stream);
    d.streamSynchronize(this.stream);
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
    if (wait) this.ctx.driver.streamSynchronize(this.stream);
    for (const t of this.pendingFrees.splice(0)) this.ctx.driver.free(t.ptr);
  }

  async synchronize(): Promise<void> {
    this.ctx.driver.streamSynchronize(this.stream);
    this.releasePendingFrees(false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx.driver.streamSynchronize(this.stream);
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

  rmsNorm(out: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number): void {
    const o = asCuda(out, 'rmsNorm out', 'bf16');
    const xt = asCuda(x, 'rmsNorm x', 'bf16');
    const wt = asCuda(weight, 'rmsNorm weight', 'bf16');
    const [n, d] = rowsCols(xt);
    checkNumel(o, n * d, 'rmsNorm out');
    checkNumel(wt, d, 'rmsNorm weight');
    if (n === 0) return;
    this.launch('rmsnorm.cu', 'rms_norm_bf16', ['ptr', 'ptr', 'ptr', 'i32', 'f32'], { grid: [n, 1, 1], block: this.rowBlock(d) }, [o.ptr, xt.ptr, wt.ptr, d, eps]);
  }

  addRmsNorm(out: DeviceTensor, residual: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number): void {
    const o = asCuda(out, 'addRmsNorm out', 'bf16');
    const r = asCuda(residual, 'addRmsNorm residual', 'bf16');
    const xt = asCuda(x, 'addRmsNorm x', 'bf16');
    const wt = asCuda(weight, 'addRmsNorm weight', 'bf16');
    const [n, d] = rowsCols(r);
    checkNumel(o, n * d, 'addRmsNorm out');
    checkNumel(xt, n * d, 'addRmsNorm x');
    checkNumel(wt, d, 'addRmsNorm weight');
    if (n === 0) return;
    this.launch('rmsnorm.cu', 'add_rms_norm_bf16', ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'f32'], { grid: [n, 1, 1], block: this.rowBlock(d) }, [o.ptr, r.ptr, xt.ptr, wt.ptr, d, eps]);
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
    this.launch('rope.cu', 'rope_text_bf16', ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'f32'], { grid: [n, 1, 1], block: this.rowBlock(((numHeads + numKvHeads) * headDim) / 2 * 4) }, [qt.ptr, kt.ptr, pos.ptr, numHeads, numKvHeads, headDim, theta]);
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

  siluAndMul(out: DeviceTensor, x: DeviceTensor): void {
    const o = asCuda(out, 'siluAndMul out', 'bf16');
    const xt = asCuda(x, 'siluAndMul x', 'bf16');
    const [n, d] = rowsCols(o);
    checkNumel(xt, n * 2 * d, 'siluAndMul x');
    if (o.numel === 0) return;
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
    const out = asCuda(a.out, 'pagedAttention out', 'bf16');
    const q = asCuda(a.q, 'pagedAttention q', 'bf16');
    const kc = asCuda(a.kCache, 'pagedAttention kCache', 'bf16');
    const vc = asCuda(a.vCache, 'pagedAttention vCache', 'bf16');
    const m = a.meta;
    const qs = asCuda(m.queryStarts, 'pagedAttention queryStarts', 'i32');
    const cl = asCuda(m.contextLens, 'pagedAttention contextLens', 'i32');
    const bt = asCuda(m.blockTables, 'pagedAttention blockTables', 'i32');
    const { numHeads, numKvHeads, headDim: hd } = a;
    const width = numHeads * hd;
    const numTokens = q.numel / width;
    checkNumel(out, q.numel, 'pagedAttention out');
    if (!Number.isInteger(numTokens)) throw new Error(`pagedAttention: q has ${q.numel} elements, not a multiple of ${width}`);
    if (numHeads % numKvHeads !== 0) throw new Error(`pagedAttention: ${numHeads} heads not a multiple of ${numKvHeads} KV heads`);
    if (kc.shape[2] !== numKvHeads || kc.shape[3] !== hd) throw new Error(`pagedAttention: cache [${kc.shape.join(', ')}] is not [*, *, ${numKvHeads}, ${hd}]`);
    if (numTokens === 0) return;
    if (this.useFlash(hd) && m.maxQueryLen >= FLASH_MIN_QUERY_LEN) {
      const f = this.flashLaunch(hd, m.maxQueryLen, numHeads, m.numSeqs);
      this.launch(
        'flash_attention.cu', `flash_paged_hd${hd}${f.suffix}`,
        ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'f32'], f.dims,
        [out.ptr, q.ptr, kc.ptr, vc.ptr, qs.ptr, cl.ptr, bt.ptr, m.maxBlocksPerSeq, kc.shape[1], numHeads, numKvHeads, a.scale],
      );
      return;
    }
    if (this.useDecodeKernel(hd, numHeads / numKvHeads, m.maxQueryLen, [q, out, kc, vc])) {
      this.decodeAttention(a, numTokens);
      return;
    }
    const dpl = lanesFor(hd, 'pagedAttention');
    const headGroups = Math.ceil(numHeads / 4);
    const splitLen = this.attentionSplitLen(numTokens * headGroups, m.maxContextLen);
    const splits = Math.max(1, Math.ceil(m.maxContextLen / splitLen));
    const partial = splits > 1 ? this.ctx.scratchBuffer('attention.partial', numTokens * numHeads * splits * (hd + 2) * 4) : 0n;
    const dims: LaunchDims = { grid: [numTokens, headGroups, splits], block: [128, 1, 1] };
    if (hd === 64 || hd === 128) {
      this.launch(
        'paged_attention.cu', `paged_attention_fast_hd${hd}`,
        ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'i32'], dims,
        [out.ptr, partial, q.ptr, kc.ptr, vc.ptr, qs.ptr, cl.ptr, bt.ptr, m.numSeqs, m.maxBlocksPerSeq, kc.shape[1], numHeads, numKvHeads, a.scale, splitLen],
      );
    } else {
      this.launch(
        'paged_attention.cu', `paged_attention_d${dpl}`,
        ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'i32'], dims,
        [out.ptr, partial, q.ptr, kc.ptr, vc.ptr, qs.ptr, cl.ptr, bt.ptr, m.numSeqs, m.maxBlocksPerSeq, kc.shape[1], numHeads, numKvHeads, hd, a.scale, splitLen],
      );
    }
    if (splits > 1) {
      this.launch('paged_attention.cu', 'attention_combine', ['ptr', 'ptr', 'i32', 'i32', 'i32'], { grid: [numTokens, numHeads, 1], block: [hd, 1, 1] }, [out.ptr, partial, numHeads, hd, splits]);
    }
  }

  /** Kernel-name suffix and launch shape of flash_attention.cu: grid (heads, query tiles,
   *  sequences or images), WARPS * 32 threads, dynamic shared memory for Q and the 2-stage K/V
   *  ring (see the .cu file). */
  private flashLaunch(hd: number, maxRows: number, numHeads: number, groups: number): { suffix: string; dims: LaunchDims } {
    const variant = this.options.flashVariant ?? (hd === 64 ? 'w4k32' : 'w4');
    const { warps, tileK } = FLASH_VARIANTS[variant];
    const tileRows = 128;
    const sharedBytes = (tileRows + 4 * tileK) * (hd + 8) * 2;
    return {
      suffix: variant === 'w8' ? '' : `_${variant}`,
      dims: { grid: [numHeads, Math.ceil(maxRows / tileRows), groups], block: [warps * 32, 1, 1], sharedBytes },
    };
  }

  /** Whether decode_attention.cu serves this call: every CTA's rows (query tokens of its
   *  sequence x heads of its group) fit in 8, head dim 64/128, 16-byte aligned operands. */
  private useDecodeKernel(hd: number, group: number, maxQueryLen: number, tensors: CudaTensor[]): boolean {
    return this.options.decodeAttention !== false && (hd === 64 || hd === 128) && Number.isInteger(group) &&
      maxQueryLen * group <= DECODE_MAX_ROWS && tensors.every((t) => t.ptr % 16n === 0n);
  }

  /** Grid (numSeqs, numKvHeads, splits); with several splits attention_combine finishes. */
  private decodeAttention(a: PagedAttentionArgs, numTokens: number): void {
    const { numHeads, numKvHeads, headDim: hd, meta: m } = a;
    const [out, q, kc, vc] = [a.out, a.q, a.kCache, a.vCache] as CudaTensor[];
    const splitLen = this.decodeSplitLen(m.numSeqs * numKvHeads, m.maxContextLen);
    const splits = Math.max(1, Math.ceil(m.maxContextLen / splitLen));
    const fused = this.options.decodeCombine !== 'kernel';
    const partial = splits > 1 ? this.ctx.scratchBuffer('attention.partial', numTokens * numHeads * splits * (hd + 2) * 4) : 0n;
    const counters = fused && splits > 1 ? this.decodeCounters(m.numSeqs * numKvHeads) : 0n;
    const ptrs = [out, q, kc, vc, m.queryStarts, m.contextLens, m.blockTables].map((t) => (t as CudaTensor).ptr);
    this.launch(
      'decode_attention.cu', `decode_attention${fused ? '_fused' : ''}_hd${hd}`,
      ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32', 'f32', 'i32'],
      { grid: [m.numSeqs, numKvHeads, splits], block: [128, 1, 1] },
      [ptrs[0], partial, counters, ...ptrs.slice(1), m.maxBlocksPerSeq, kc.shape[1], numHeads, numKvHeads, a.scale, splitLen],
    );
    if (splits > 1 && !fused) {
      this.launch('paged_attention.cu', 'attention_combine', ['ptr', 'ptr', 'i32', 'i32', 'i32'], { grid: [numTokens, numHeads, 1], block: [hd, 1, 1] }, [out.ptr, partial, numHeads, hd, splits]);
    }
  }

  /** The fused combine's per-(sequence, kv head) arrival counters, i32, zero between
   *  launches (each launch's last CTA resets its own). Zeroed once when (re)allocated: the
   *  request is a power of two >= 256 bytes, so the scratch buffer is exactly that size. */
  private decodeCounters(count: number): bigint {
    const bytes = Math.max(256, 2 ** Math.ceil(Math.log2(count * 4)));
    const ptr = this.ctx.scratchBuffer('decode.counters', bytes);
    if (ptr !== this.decodeCountersPtr) {
      this.ctx.driver.memsetD8(ptr, 0, bytes, this.stream);
      this.decodeCountersPtr = ptr;
    }
    return ptr;
  }

  /** decode_attention keys per split: the option when given, else as many splits (of >= 256
   *  keys, a multiple of 64) as fit one wave of resident CTAs (4 per SM); at most 256 splits;
   *  shapes only, so graphs may record it. On the H100 the best split at an exact context
   *  gave ~2 CTAs per SM (4 per SM cost 5-8% at 32K-131K); decode graphs pass a bound up to
   *  2x the longest context, where the splits past it exit at once, so 4 per SM of the bound
   *  lands at 2-4 working CTAs per SM (bench/notes/cuda.md, decode attention sweep). */
  private decodeSplitLen(ctas: number, maxContextLen: number): number {
    const least = Math.ceil(maxContextLen / DECODE_MAX_SPLITS);
    if (this.options.attentionSplitLen) return Math.max(least, this.options.attentionSplitLen);
    const want = Math.floor((DECODE_CTAS_PER_SM * this.ctx.info.multiprocessorCount) / ctas);
    const splits = Math.max(1, Math.min(want, Math.ceil(maxContextLen / 256), DECODE_MAX_SPLITS));
    return Math.max(64, Math.ceil(maxContextLen / splits / 64) * 64);
  }

  private useFlash(headDim: number): boolean {
    return this.options.flashAttention !== false && (headDim === 64 || headDim === 128);
  }

  /** Keys per split: the option when given, else enough splits to fill the GPU. */
  private attentionSplitLen(blocks: number, maxContextLen: number): number {
    if (this.options.attentionSplitLen) return this.options.attentionSplitLen;
    // Latency-bound: aim for ~8 CTAs (32 warps) per SM, splits of at least 128 keys.
    const want = Math.ceil((8 * this.ctx.info.multiprocessorCount) / blocks);
    const splits = Math.max(1, Math.min(want, Math.ceil(maxContextLen / 256), DECODE_MAX_SPLITS));
    return Math.max(1, Math.ceil(maxContextLen / splits));
  }

  visionAttention(a: VisionAttentionArgs): void {
    const out = asCuda(a.out, 'visionAttention out', 'bf16');
    const q = asCuda(a.q, 'visionAttention q', 'bf16');
    const k = asCuda(a.k, 'visionAttention k', 'bf16');
    const v = asCuda(a.v, 'visionAttention v', 'bf16');
    const ps = asCuda(a.spans.patchStarts, 'visionAttention patchStarts', 'i32');
    const width = a.numHeads * a.headDim;
    const n = q.numel / width;
    for (const [t, what] of [[out, 'out'], [k, 'k'], [v, 'v']] as const) checkNumel(t, q.numel, `visionAttention ${what}`);
    if (n === 0) return;
    if (this.useFlash(a.headDim)) {
      const f = this.flashLaunch(a.headDim, a.spans.maxPatches, a.numHeads, a.spans.gridRows.length);
      this.launch(
        'flash_attention.cu', `flash_dense_hd${a.headDim}${f.suffix}`, ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'f32'], f.dims,
        [out.ptr, q.ptr, k.ptr, v.ptr, ps.ptr, a.numHeads, a.scale],
      );
      return;
    }
    const dpl = lanesFor(a.headDim, 'visionAttention');
    this.launch(
      'vision_attention.cu', `vision_attention_d${dpl}`,
      ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'f32'],
      { grid: [n, Math.ceil(a.numHeads / 4), 1], block: [128, 1, 1] },
      [out.ptr, q.ptr, k.ptr, v.ptr, ps.ptr, a.spans.gridRows.length, a.numHeads, a.headDim, a.scale],
    );
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

/** The attention kernel variant (dims per lane) for a head dim. */
function lanesFor(hd: number, what: string): number {
  for (const d of [1, 2, 4, 8]) if (hd <= 32 * d) return d;
  throw new Error(`${what}: head dim ${hd} over the supported 256`);
}
