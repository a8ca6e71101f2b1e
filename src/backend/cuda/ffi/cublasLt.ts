// cuBLASLt bindings: bf16 GEMMs with fp32 accumulation for row-major activations times
// row-major [out, in] weights (y = x · Wᵀ), and FP8 (E4M3) GEMMs of the same layout with
// per-token activation scales and per-channel weight scales (outer-vector scaling, CUDA 12.9+).
// The heuristic is asked once per shape and its algorithm cached; one workspace buffer serves
// every call.
import { CudaError } from './errors.js';
import type { CudaDriver, DevicePtr, Handle } from './driver.js';
import { loadLibrary } from './libraryLoader.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;

export const CUBLAS_STATUS_NOT_SUPPORTED = 15;
const CUDA_R_32F = 0;
const CUDA_R_16BF = 14;
const CUDA_R_8F_E4M3 = 28;
const CUBLAS_COMPUTE_32F = 68;
const CUBLASLT_MATMUL_DESC_TRANSA = 3;
const CUBLASLT_MATMUL_DESC_TRANSB = 4;
const CUBLASLT_MATMUL_DESC_A_SCALE_POINTER = 17;
const CUBLASLT_MATMUL_DESC_B_SCALE_POINTER = 18;
const CUBLASLT_MATMUL_DESC_A_SCALE_MODE = 31;
const CUBLASLT_MATMUL_DESC_B_SCALE_MODE = 32;
/** cublasLtMatmulMatrixScale_t: one f32 scale per row of op(A) (length N here) or per column
 *  of op(B) (length M). */
const CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F = 3;
const CUBLAS_OP_N = 0;
const CUBLAS_OP_T = 1;
const CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;
/** sizeof(cublasLtMatmulHeuristicResult_t): algo (8 x u64), workspaceSize, state, wavesCount, reserved[4]. */
const HEURISTIC_RESULT_BYTES = 96;

export type GemmOut = 'bf16' | 'f32';
/** Operand format: bf16 x and W; E4M3 x and W with outer-vector f32 scales ('fp8'); or E4M3
 *  without scales ('fp8-unscaled': the caller applies them to an f32 result). */
type GemmIn = 'bf16' | 'fp8' | 'fp8-unscaled';

/** GEMMs with at least this many rows of x (prefill, vision) time the heuristic's top
 *  AUTOTUNE_CANDIDATES algorithms on their first call and keep the fastest; smaller ones take
 *  the heuristic's first choice. */
const AUTOTUNE_MIN_M = 256;
const AUTOTUNE_CANDIDATES = 8;
const AUTOTUNE_REPS = 3;

/** A cached plan for one (M, N, K, out dtype): descriptors and the chosen algorithm. */
interface GemmPlan {
  readonly desc: bigint;
  readonly layoutW: bigint;
  readonly layoutX: bigint;
  readonly layoutY: bigint;
  /** The chosen heuristic result; its first 64 bytes are the cublasLtMatmulAlgo_t. */
  algo: Uint8Array;
  /** Heuristic results still to be timed (empty once chosen). */
  candidates: Uint8Array[];
  readonly workspaceBytes: number;
}

/** What autotuning chose, per shape (for benchmarks and notes). */
export interface AutotuneRecord {
  readonly shape: string;
  /** Median ms of each candidate, in heuristic order (NaN: the algorithm failed). */
  readonly ms: readonly number[];
  readonly chosen: number;
}

export class CublasLt {
  readonly libraryPath: string;
  private readonly fn: Record<string, Fn>;
  private readonly handle: bigint;
  private readonly plans = new Map<string, GemmPlan>();
  private readonly alpha = new Float32Array([1]);
  private readonly beta = new Float32Array([0]);

  constructor(
    private readonly driver: CudaDriver,
    /** Device workspace for split-K and the like; 32 MiB is what NVIDIA suggests for Hopper. */
    readonly workspaceBytes = 32 * 1024 * 1024,
  ) {
    const { lib, path } = loadLibrary('cuBLASLt', ['libcublasLt.so.13', 'libcublasLt.so.12', 'libcublasLt.so']);
    this.libraryPath = path;
    this.fn = {
      status: lib.func('const char *cublasLtGetStatusString(int status)') as Fn,
      create: lib.func('int cublasLtCreate(void *handle)') as Fn,
      destroy: lib.func('int cublasLtDestroy(uint64_t handle)') as Fn,
      descCreate: lib.func('int cublasLtMatmulDescCreate(void *desc, int computeType, int scaleType)') as Fn,
      descDestroy: lib.func('int cublasLtMatmulDescDestroy(uint64_t desc)') as Fn,
      descSet: lib.func('int cublasLtMatmulDescSetAttribute(uint64_t desc, int attr, const void *buf, size_t size)') as Fn,
      layoutCreate: lib.func('int cublasLtMatrixLayoutCreate(void *layout, int type, uint64_t rows, uint64_t cols, int64_t ld)') as Fn,
      layoutDestroy: lib.func('int cublasLtMatrixLayoutDestroy(uint64_t layout)') as Fn,
      prefCreate: lib.func('int cublasLtMatmulPreferenceCreate(void *pref)') as Fn,
      prefDestroy: lib.func('int cublasLtMatmulPreferenceDestroy(uint64_t pref)') as Fn,
      prefSet: lib.func('int cublasLtMatmulPreferenceSetAttribute(uint64_t pref, int attr, const void *buf, size_t size)') as Fn,
      heuristic: lib.func(
        'int cublasLtMatmulAlgoGetHeuristic(uint64_t handle, uint64_t desc, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t pref, int requested, void *results, void *count)',
      ) as Fn,
      matmul: lib.func(
        'int cublasLtMatmul(uint64_t handle, uint64_t desc, const void *alpha, uint64_t A, uint64_t Adesc, uint64_t B, uint64_t Bdesc, const void *beta, uint64_t C, uint64_t Cdesc, uint64_t D, uint64_t Ddesc, const void *algo, uint64_t workspace, size_t workspaceBytes, uint64_t stream)',
      ) as Fn,
    };
    this.handle = this.out('cublasLtCreate', this.fn.create);
    this.workspace = driver.malloc(workspaceBytes);
  }

  private readonly workspace: DevicePtr;

  private check(call: string, rc: number): void {
    if (rc !== 0) throw new CudaError(call, rc, String(this.fn.status(rc)));
  }

  private out(call: string, f: Fn, ...rest: unknown[]): bigint {
    const o = new BigUint64Array(1);
    this.check(call, f(o, ...rest) as number);
    return o[0];
  }

  /** Plans (once) and returns the plan for y[M,N] = x[M,K] · W[N,K]ᵀ: x, W bf16 (or E4M3 with
   *  outer-vector scales), y bf16 or f32, fp32 accumulation. */
  private plan(m: number, n: number, k: number, out: GemmOut, input: GemmIn = 'bf16'): GemmPlan {
    const key = `${m}x${n}x${k}:${out}${input === 'bf16' ? '' : `:${input}`}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    // Column-major view: yᵀ[N,M] = W[N,K] · xᵀ[K,M]. Row-major W [N,K] is column-major
    // [K,N] (ld K), used transposed; row-major x [M,K] is column-major [K,M] (ld K).
    const desc = this.out('cublasLtMatmulDescCreate', this.fn.descCreate, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    const i32 = (v: number): Int32Array => new Int32Array([v]);
    this.check('cublasLtMatmulDescSetAttribute(TRANSA)', this.fn.descSet(desc, CUBLASLT_MATMUL_DESC_TRANSA, i32(CUBLAS_OP_T), 4) as number);
    this.check('cublasLtMatmulDescSetAttribute(TRANSB)', this.fn.descSet(desc, CUBLASLT_MATMUL_DESC_TRANSB, i32(CUBLAS_OP_N), 4) as number);
    if (input === 'fp8') {
      // FP8 needs this "TN" layout (A = W transposed, B = xᵀ not): it is the one above. A's
      // scales run along N (per output channel), B's along M (per token).
      this.check('cublasLtMatmulDescSetAttribute(A_SCALE_MODE)', this.fn.descSet(desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, i32(CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F), 4) as number);
      this.check('cublasLtMatmulDescSetAttribute(B_SCALE_MODE)', this.fn.descSet(desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, i32(CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F), 4) as number);
      // Vector scale modes need scale pointers before the heuristic is asked (else status 7,
      // "requires a custom pointer"): any device address serves, each call sets its own.
      const placeholder = new BigUint64Array([this.workspace]);
      this.check('cublasLtMatmulDescSetAttribute(A_SCALE_POINTER)', this.fn.descSet(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, placeholder, 8) as number);
      this.check('cublasLtMatmulDescSetAttribute(B_SCALE_POINTER)', this.fn.descSet(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, placeholder, 8) as number);
    }
    const inType = input === 'bf16' ? CUDA_R_16BF : CUDA_R_8F_E4M3;
    const layoutW = this.out('cublasLtMatrixLayoutCreate(W)', this.fn.layoutCreate, inType, k, n, k);
    const layoutX = this.out('cublasLtMatrixLayoutCreate(x)', this.fn.layoutCreate, inType, k, m, k);
    const layoutY = this.out('cublasLtMatrixLayoutCreate(y)', this.fn.layoutCreate, out === 'f32' ? CUDA_R_32F : CUDA_R_16BF, n, m, n);
    const pref = this.out('cublasLtMatmulPreferenceCreate', this.fn.prefCreate);
    try {
      const ws = new BigUint64Array([BigInt(this.workspaceBytes)]);
      this.check('cublasLtMatmulPreferenceSetAttribute', this.fn.prefSet(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8) as number);
      const requested = m >= AUTOTUNE_MIN_M ? AUTOTUNE_CANDIDATES : 1;
      const results = new Uint8Array(HEURISTIC_RESULT_BYTES * requested);
      const count = new Int32Array(1);
      this.check(
        'cublasLtMatmulAlgoGetHeuristic',
        this.fn.heuristic(this.handle, desc, layoutW, layoutX, layoutY, layoutY, pref, requested, results, count) as number,
      );
      if (count[0] < 1) throw new CudaError('cublasLtMatmulAlgoGetHeuristic', CUBLAS_STATUS_NOT_SUPPORTED, `no algorithm for ${input} GEMM ${key}`);
      const all = Array.from({ length: count[0] }, (_, i) => results.slice(i * HEURISTIC_RESULT_BYTES, (i + 1) * HEURISTIC_RESULT_BYTES));
      const view = new DataView(all[0].buffer);
      const plan: GemmPlan = { desc, layoutW, layoutX, layoutY, algo: all[0], candidates: all.length > 1 ? all : [], workspaceBytes: Number(view.getBigUint64(64, true)) };
      this.plans.set(key, plan);
      return plan;
    } finally {
      this.fn.prefDestroy(pref);
    }
  }

  /** y[M,N] = x[M,K] · W[N,K]ᵀ on `stream` (bf16 inputs, bf16 or f32 out, fp32 accumulation). */
  linear(y: DevicePtr, x: DevicePtr, w: DevicePtr, m: number, n: number, k: number, stream: Handle, out: GemmOut = 'bf16'): void {
    const p = this.plan(m, n, k, out);
    this.run(p, `${m}x${n}x${k}:${out}`, y, x, w, stream);
  }

  /** y[M,N] = (xScales[M] ⊗ wScales[N]) ∘ (x[M,K] · W[N,K]ᵀ) on `stream`: x and W E4M3 codes
   *  (row-major, K contiguous), the scales f32 device vectors, fp32 accumulation, y bf16 or
   *  f32. Throws CudaError CUBLAS_STATUS_NOT_SUPPORTED when cuBLASLt has no algorithm. Graph
   *  capture: the scale pointers are read when the call is issued, like the operands. */
  linearFp8(y: DevicePtr, x: DevicePtr, xScales: DevicePtr, w: DevicePtr, wScales: DevicePtr, m: number, n: number, k: number, stream: Handle, out: GemmOut = 'bf16'): void {
    const p = this.plan(m, n, k, out, 'fp8');
    const ptr = (v: DevicePtr): BigUint64Array => new BigUint64Array([v]);
    this.check('cublasLtMatmulDescSetAttribute(A_SCALE_POINTER)', this.fn.descSet(p.desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, ptr(wScales), 8) as number);
    this.check('cublasLtMatmulDescSetAttribute(B_SCALE_POINTER)', this.fn.descSet(p.desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, ptr(xScales), 8) as number);
    this.run(p, `${m}x${n}x${k}:${out}:fp8`, y, x, w, stream);
  }

  /** acc[M,N] (f32) = x[M,K] · W[N,K]ᵀ for E4M3 x and W without scales (the fallback when
   *  linearFp8 has no algorithm: the caller applies the scales). */
  linearFp8Unscaled(acc: DevicePtr, x: DevicePtr, w: DevicePtr, m: number, n: number, k: number, stream: Handle): void {
    this.run(this.plan(m, n, k, 'f32', 'fp8-unscaled'), `${m}x${n}x${k}:f32:fp8-unscaled`, acc, x, w, stream);
  }

  private run(p: GemmPlan, shape: string, y: DevicePtr, x: DevicePtr, w: DevicePtr, stream: Handle): void {
    if (p.candidates.length > 0) this.autotune(p, shape, y, x, w, stream);
    this.check(
      `cublasLtMatmul(${shape})`,
      this.fn.matmul(this.handle, p.desc, this.alpha, w, p.layoutW, x, p.layoutX, this.beta, y, p.layoutY, y, p.layoutY, p.algo, this.workspace, this.workspaceBytes, stream) as number,
    );
  }

  /** Times each candidate algorithm on this call's own operands (y is overwritten by each, and
   *  then by the real call) and keeps the fastest. Synchronises the stream once per shape. */
  private autotune(p: GemmPlan, shape: string, y: DevicePtr, x: DevicePtr, w: DevicePtr, stream: Handle): void {
    const d = this.driver;
    const [e0, e1] = [d.createEvent(), d.createEvent()];
    const ms: number[] = [];
    try {
      for (const algo of p.candidates) {
        const run = () => this.fn.matmul(this.handle, p.desc, this.alpha, w, p.layoutW, x, p.layoutX, this.beta, y, p.layoutY, y, p.layoutY, algo, this.workspace, this.workspaceBytes, stream) as number;
        if (run() !== 0) {
          ms.push(Number.NaN);
          continue;
        }
        d.recordEvent(e0, stream);
        for (let i = 0; i < AUTOTUNE_REPS; i++) run();
        d.recordEvent(e1, stream);
        d.eventSynchronize(e1);
        ms.push(d.elapsedMs(e0, e1) / AUTOTUNE_REPS);
      }
    } finally {
      d.destroyEvent(e0);
      d.destroyEvent(e1);
    }
    let best = 0;
    ms.forEach((t, i) => {
      if (!Number.isNaN(t) && (Number.isNaN(ms[best]) || t < ms[best])) best = i;
    });
    if (!Number.isNaN(ms[best])) p.algo = p.candidates[best];
    this.autotuned.push({ shape, ms, chosen: best });
    p.candidates = [];
  }

  /** Shapes autotuned so far, with each candidate's time. */
  readonly autotuned: AutotuneRecord[] = [];

  /** Number of shapes planned so far (each planned once). */
  get planCount(): number {
    return this.plans.size;
  }

  dispose(): void {
    for (const p of this.plans.values()) {
      this.fn.layoutDestroy(p.layoutW);
      this.fn.layoutDestroy(p.layoutX);
      this.fn.layoutDestroy(p.layoutY);
      this.fn.descDestroy(p.desc);
    }
    this.plans.clear();
    this.fn.destroy(this.handle);
    this.driver.free(this.workspace);
  }
}
