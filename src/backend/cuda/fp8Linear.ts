// FP8 linear weights on the CUDA backend (issue 16): E4M3 codes [out, in] (one byte each) and
// one f32 scale per output row, dequantized w[r, c] = e4m3(codes[r, c]) * scales[r].
//   - upload: host codes + scales as they are (FP8 checkpoints);
//   - quantize: a dense bf16 device weight, per row on the device (online FP8, dummy weights),
//     by the rule of the host's quantizeRowsFp8 (scale = absmax / 448, RNE, saturating);
//   - multiply: for m <= bf16GemvMaxRows (one decode token) the FP8 GEMV on bf16 activations
//     (fp8_gemv.cu); else the activations quantized per token by the same rule (or taken as the
//     kernel that produced them quantized them, see prepareOutput), then for m <= gemvMaxRows
//     the FP8 skinny GEMM on the tensor cores (fp8_skinny.cu), above it cuBLASLt's FP8 GEMM with
//     outer-vector scales (per token x per channel); bf16/f32 out. Without FP8 tensor cores
//     (before sm_89) the skinny path is the FP8 GEMV at every m <= gemvMaxRows.
// Every buffer a multiply touches is either the weight's or a context scratch buffer that is
// never freed while graphs may hold it, so the calls can be recorded into CUDA graphs.
import type { LinearRopeWriteKvArgs, LinearWeight } from '../backend.js';
import type { CudaContext } from './cudaContext.js';
import { CudaTensor, asCuda } from './cudaTensor.js';
import { rowsCols } from '../tensorShape.js';
import { CudaError } from './ffi/errors.js';
import { CUBLAS_STATUS_NOT_SUPPORTED } from './ffi/cublasLt.js';
import type { DevicePtr } from './ffi/driver.js';

/** fp8_skinny.cu: weight rows a CTA, threads a CTA (32 * FS_WARPS). */
const SKINNY_ROWS = 16;
const SKINNY_THREADS = 256;
/** Split-K piece of the skinny kernel (bytes of a row): down's 32768-byte rows become 4 CTAs
 *  of 8 KB, about gate_up's 5 KB a CTA, the shape that streams at 92% of bandwidth. */
export const DEFAULT_SPLIT_K_BYTES = 8192;
const MAX_SPLITS = 16;
/** A decode token's linears go through the bf16-x GEMV: at m = 1 it streams the weight at
 *  95-98% of a plain read on the large matrices and 75-80% on the small ones, the tensor-core
 *  skinny kernel at 71-88% (bench/notes/fp8.md, fourth pass). */
export const DEFAULT_BF16_GEMV_MAX_ROWS = 1;

/** fp8_gemv.cu's instantiations: x rows, rows of W a CTA, and the kernel name's suffix. m = 1
 *  takes SMALL_OR_LONG (groups of 128 threads, 2 rows each) for matrices of at most
 *  SMALL_GEMV_BYTES (o_proj) and rows of at least LONG_GEMV_ROW bytes (down), else groups of
 *  64 (gate_up's many short rows). */
const GEMV_VARIANTS: readonly { readonly m: number; readonly rowsPerCta: number; readonly suffix: string }[] = [
  { m: 1, rowsPerCta: 8, suffix: '' },
  { m: 2, rowsPerCta: 4, suffix: '' },
  { m: 4, rowsPerCta: 4, suffix: '' },
  { m: 8, rowsPerCta: 2, suffix: '' },
  { m: 16, rowsPerCta: 2, suffix: '' },
];
const SMALL_OR_LONG = { rowsPerCta: 4, suffix: '_g128' };
const SMALL_GEMV_BYTES = 40 << 20;
const LONG_GEMV_ROW = 16384;
/** fp8_gemv_silu_m1 / fp8_gemv_rope_m1: row pairs a CTA. */
const SILU_GEMV_PAIRS_PER_CTA = 4;
const ROPE_GEMV_PAIRS_PER_CTA = 8;

/** Largest m the FP8 skinny kernels take (fp8_gemv.cu: 1, 2, 4, 8, 16; fp8_skinny.cu: 8, 16). */
export const FP8_GEMV_MAX_M = 16;
/** fp8_gemv.cu's kernel parameters: y, x, w codes, w scales, m, n, k, preload. */
const GEMV_PARAMS = ['ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'i32'] as const;

/** The kernel for FP8 linears with m <= gemvMaxRows: 'mma', activations quantized per token
 *  on the FP8 tensor cores (sm_89+), the arithmetic of the large-m path; 'gemv', bf16
 *  activations times the weight's E4M3 values in f32 (exact products, any GPU). */
export type Fp8SkinnyKernel = 'mma' | 'gemv';

/** Activations in FP8: E4M3 codes [rows, cols] and one f32 scale a row, on the device. */
export interface Fp8Activation {
  readonly codes: DevicePtr;
  readonly scales: DevicePtr;
}

/** An activation's FP8 form, written by the kernel that produced it (prepareOutput). */
interface PreparedInput extends Fp8Activation {
  readonly rows: number;
  readonly cols: number;
  /** Valid while the shared buffer holds it: equal to CudaFp8Ops.preparedGeneration. */
  readonly generation: number;
}

export class CudaFp8Linear implements LinearWeight {
  readonly format = 'fp8' as const;
  readonly shape: readonly [number, number];
  constructor(
    /** Holder of the codes [out, in] (its dtype is nominal: one byte per element). */
    readonly codes: CudaTensor,
    /** f32 [out]. */
    readonly scales: CudaTensor,
    /** Address of the first code and first scale this handle covers (row views offset them). */
    readonly codesPtr: DevicePtr,
    readonly scalesPtr: DevicePtr,
    out: number,
    inDim: number,
    /** freeLinear frees codes and scales (false for row views). */
    readonly owned: boolean,
  ) {
    this.shape = [out, inDim];
  }

  get bytes(): number {
    return this.shape[0] * this.shape[1] + 4 * this.shape[0];
  }
}

export function asFp8Linear(w: LinearWeight): CudaFp8Linear {
  if (!(w instanceof CudaFp8Linear)) throw new Error(`fp8 linear weight [${w.shape.join(', ')}] was not made by the cuda backend`);
  return w;
}

/** What the FP8 ops need from the backend. */
export interface Fp8Host {
  readonly ctx: CudaContext;
  /** A device buffer of `bytes` bytes owned by the backend (freed with free). */
  allocBytes(bytes: number): CudaTensor;
  free(t: CudaTensor): void;
}

/** cuBLASLt answers INVALID_VALUE (7) or NOT_SUPPORTED (15) when it cannot run a configuration. */
const CUBLAS_STATUS_INVALID_VALUE = 7;
function unsupported(err: unknown): boolean {
  return err instanceof CudaError && (err.code === CUBLAS_STATUS_NOT_SUPPORTED || err.code === CUBLAS_STATUS_INVALID_VALUE);
}

/** How a large-m FP8 linear ran, per shape: cuBLASLt with outer-vector scales; cuBLASLt
 *  unscaled into f32 + a scaling kernel; or the skinny kernel 16 rows at a time. */
export type Fp8GemmRoute = 'outer-vector' | 'unscaled+scale' | 'skinny-chunks';

export class CudaFp8Ops {
  /** The route each large-m shape took (the first that cuBLASLt accepted). */
  readonly routes = new Map<string, Fp8GemmRoute>();

  /** Activations whose FP8 form their producer wrote (see prepareOutput). */
  private readonly prepared = new WeakMap<CudaTensor, PreparedInput>();
  /** The arrival counters known to be zero (split-K). */
  private zeroedArrivals: { ptr: DevicePtr; tiles: number } = { ptr: 0n, tiles: 0 };
  /** Bumped each time a producer overwrites the shared prepared-input buffer. */
  private preparedGeneration = 0;
  /** The skinny kernel in use: the one asked for, or 'gemv' without FP8 tensor cores. */
  readonly skinny: Fp8SkinnyKernel;

  constructor(
    private readonly host: Fp8Host,
    /** m <= this takes the skinny kernel; above, quantize + cuBLASLt. */
    readonly gemvMaxRows: number,
    skinny: Fp8SkinnyKernel = 'mma',
    /** The skinny kernel splits rows longer than twice this many bytes into pieces of about
     *  this size, each its own CTA (0: never). */
    private readonly splitKBytes = DEFAULT_SPLIT_K_BYTES,
    /** Let the skinny kernel and the GEMV load their first weights before their
     *  programmatic-launch wait, while the kernel before them finishes (only once every weight
     *  write has finished). */
    private readonly weightPreload = true,
    /** With the 'mma' kernel, inputs of at most this many rows (and at most gemvMaxRows) take
     *  the bf16-x GEMV instead of per-token quantization + the tensor cores (0: never). */
    readonly bf16GemvMaxRows = DEFAULT_BF16_GEMV_MAX_ROWS,
  ) {
    if (!(Number.isInteger(gemvMaxRows) && gemvMaxRows >= 0 && gemvMaxRows <= FP8_GEMV_MAX_M)) {
      throw new Error(`fp8 gemvMaxRows must be an integer in 0..${FP8_GEMV_MAX_M} (got ${gemvMaxRows})`);
    }
    if (skinny !== 'mma' && skinny !== 'gemv') throw new Error(`fp8 skinny kernel must be 'mma' or 'gemv' (got ${String(skinny)})`);
    if (!(Number.isInteger(splitKBytes) && splitKBytes >= 0)) throw new Error(`fp8 splitKBytes must be an integer >= 0 (got ${splitKBytes})`);
    if (!(Number.isInteger(bf16GemvMaxRows) && bf16GemvMaxRows >= 0)) {
      throw new Error(`fp8 bf16GemvMaxRows must be an integer >= 0 (got ${bf16GemvMaxRows})`);
    }
    const [major, minor] = host.ctx.info.computeCapability;
    this.skinny = skinny === 'mma' && major * 10 + minor >= 89 ? 'mma' : 'gemv';
  }

  /** Whether linear() multiplies m rows of x as per-token FP8 codes (false: bf16 x, the GEMV). */
  quantizesActivations(m: number): boolean {
    return m > this.gemvMaxRows || (this.skinny === 'mma' && m > this.bf16GemvMaxRows);
  }

  /**
   * A producer (rmsNorm, addRmsNorm, siluAndMul) writing `out` [rows, cols], which `feeds`
   * reads next, asks where to put out's FP8 form: codes [rows, cols] and per-row scales, by
   * quantize_row_e4m3's rule, written by the producer's kernel beside the bf16 out. null when
   * that form would not be used (a dense weight, the bf16-x GEMV, an unaligned row); `out`
   * then has no FP8 form. The form lives in one shared buffer: valid until the next producer
   * asks, and meant for the linears that read `out` right after it was written.
   */
  prepareOutput(out: CudaTensor, rows: number, cols: number, feeds: LinearWeight | undefined): Fp8Activation | null {
    if (!(feeds instanceof CudaFp8Linear) || feeds.shape[1] !== cols || !this.quantizesActivations(rows) || cols % 8 !== 0 || out.ptr % 16n !== 0n) {
      this.prepared.delete(out);
      return null;
    }
    const codes = this.ctx.scratchBuffer('fp8.act', rows * cols);
    const scales = this.ctx.scratchBuffer('fp8.actScales', 4 * rows);
    this.preparedGeneration++;
    this.prepared.set(out, { codes, scales, rows, cols, generation: this.preparedGeneration });
    return { codes, scales };
  }

  /** x's FP8 form as its producer wrote it (prepareOutput) and still valid, else null. */
  private preparedInput(x: CudaTensor, m: number, k: number): Fp8Activation | null {
    const pre = this.prepared.get(x);
    return pre && pre.generation === this.preparedGeneration && pre.rows === m && pre.cols === k ? pre : null;
  }

  /** x's FP8 codes and scales: its producer's (prepareOutput), or quantized now into scratch. */
  private quantizedInput(x: CudaTensor, m: number, k: number): Fp8Activation {
    const pre = this.preparedInput(x, m, k);
    if (pre) return pre;
    const codes = this.ctx.scratchBuffer('fp8.x', m * k);
    const scales = this.ctx.scratchBuffer('fp8.xScales', 4 * m);
    this.quantizeRows(codes, scales, x.ptr, m, k);
    return { codes, scales };
  }

  private get ctx(): CudaContext {
    return this.host.ctx;
  }

  /** An empty FP8 weight [out, in] (codes and scales uninitialised). */
  allocate(out: number, inDim: number): CudaFp8Linear {
    if (!(Number.isInteger(out) && Number.isInteger(inDim) && out > 0 && inDim > 0)) throw new Error(`fp8 weight: bad shape [${out}, ${inDim}]`);
    if (inDim % 16 !== 0) throw new Error(`fp8 weight [${out}, ${inDim}]: the input dimension must be a multiple of 16 (16-byte rows)`);
    const codes = this.host.allocBytes(out * inDim);
    const scales = this.host.allocBytes(4 * out);
    return new CudaFp8Linear(codes, scales, codes.ptr, scales.ptr, out, inDim, true);
  }

  /** Host E4M3 codes [out, in] and f32 scales [out] -> device. */
  upload(codes: Uint8Array, scales: Float32Array, out: number, inDim: number): CudaFp8Linear {
    if (codes.byteLength !== out * inDim) throw new Error(`fp8 weight [${out}, ${inDim}]: ${codes.byteLength} bytes of codes`);
    if (scales.length !== out) throw new Error(`fp8 weight [${out}, ${inDim}]: ${scales.length} scales, expected one per row (${out})`);
    for (let r = 0; r < out; r++) {
      if (!(Number.isFinite(scales[r]) && scales[r] > 0)) throw new Error(`fp8 weight [${out}, ${inDim}]: scale of row ${r} is ${scales[r]} (must be finite and > 0)`);
    }
    const w = this.allocate(out, inDim);
    this.ctx.driver.copyHtoD(w.codesPtr, codes, this.ctx.stream);
    this.ctx.driver.copyHtoD(w.scalesPtr, scales, this.ctx.stream);
    return w;
  }

  /** A dense bf16 device weight [out, in] quantized per row on the device; `dense` untouched. */
  quantize(dense: CudaTensor): CudaFp8Linear {
    const [out, inDim] = rowsCols(asCuda(dense, 'quantizeLinear weight', 'bf16'));
    if (dense.shape.length !== 2) throw new Error(`quantizeLinear: expected a matrix [out, in], got [${dense.shape.join(', ')}]`);
    const w = this.allocate(out, inDim);
    this.ctx.noteWeightWrite();
    this.quantizeRows(w.codesPtr, w.scalesPtr, dense.ptr, out, inDim);
    return w;
  }

  /** codes [rows, d] + scales [rows] = per-row E4M3 quantization of bf16 x [rows, d]. */
  quantizeRows(codes: DevicePtr, scales: DevicePtr, x: DevicePtr, rows: number, d: number): void {
    if (rows === 0) return;
    if (d % 8 !== 0 || x % 16n !== 0n) throw new Error(`fp8 quantize: rows of ${d} bf16 must be a multiple of 8 and 16-byte aligned`);
    const block = Math.min(1024, Math.max(32, 32 * Math.ceil(d / 8 / 4 / 32)));
    this.ctx.kernels
      .kernel('fp8_quant.cu', 'quantize_rows_e4m3', ['ptr', 'ptr', 'ptr', 'i32'])
      .launch({ grid: [rows, 1, 1], block: [block, 1, 1] }, this.ctx.stream, [codes, scales, x, d]);
  }

  /** Rows rowStart .. rowStart+rows-1 as a weight sharing w's memory. */
  rows(w: CudaFp8Linear, rowStart: number, rows: number): CudaFp8Linear {
    const [out, inDim] = w.shape;
    if (!(Number.isInteger(rowStart) && Number.isInteger(rows) && rowStart >= 0 && rows >= 0 && rowStart + rows <= out)) {
      throw new Error(`linearRows: rows ${rowStart}..${rowStart + rows - 1} lie outside a weight of ${out} rows`);
    }
    return new CudaFp8Linear(w.codes, w.scales, w.codesPtr + BigInt(rowStart * inDim), w.scalesPtr + BigInt(4 * rowStart), rows, inDim, false);
  }

  free(w: CudaFp8Linear): void {
    if (!w.owned) return;
    this.host.free(w.codes);
    this.host.free(w.scales);
  }

  /** out [m, out] (bf16 or f32) = x [m, in] (bf16) · dequant(w)ᵀ. */
  linear(out: CudaTensor, x: CudaTensor, w: CudaFp8Linear): void {
    const o = asCuda(out, 'linear out', ['bf16', 'f32']);
    const xt = asCuda(x, 'linear x', 'bf16');
    const [m, k] = rowsCols(xt);
    const [n, wk] = w.shape;
    const [om, on] = rowsCols(o);
    if (wk !== k || om !== m || on !== n) {
      throw new Error(`linear: x [${x.shape.join(', ')}] · fp8 w [${n}, ${wk}]ᵀ does not fit out [${out.shape.join(', ')}]`);
    }
    if (m === 0 || n === 0) return;
    if (xt.ptr % 16n !== 0n) throw new Error('linear: x must be 16-byte aligned for fp8 weights');
    if (m <= this.gemvMaxRows) {
      if (this.quantizesActivations(m)) this.skinnyMma(o, this.quantizedInput(xt, m, k), w, m);
      else this.gemv(o, xt, w, 0, m);
      return;
    }
    const key = `${m}x${n}x${k}:${o.dtype}`;
    let route = this.routes.get(key) ?? 'outer-vector';
    if (route !== 'skinny-chunks') {
      const { codes: xq, scales: xs } = this.quantizedInput(xt, m, k);
      const blas = this.ctx.cublas;
      if (route === 'outer-vector') {
        try {
          blas.linearFp8(o.ptr, xq, xs, w.codesPtr, w.scalesPtr, m, n, k, this.ctx.stream, o.dtype === 'f32' ? 'f32' : 'bf16');
          this.routes.set(key, route);
          return;
        } catch (err) {
          if (!unsupported(err)) throw err;
          route = 'unscaled+scale';
        }
      }
      try {
        const acc = this.ctx.scratchBuffer('fp8.acc', 4 * m * n);
        blas.linearFp8Unscaled(acc, xq, w.codesPtr, m, n, k, this.ctx.stream);
        const count = m * n;
        const blocks = Math.max(1, Math.min(Math.ceil(count / 256), this.ctx.info.multiprocessorCount * 32));
        this.ctx.kernels
          .kernel('fp8_quant.cu', 'fp8_apply_scales', ['ptr', 'i32', 'ptr', 'ptr', 'ptr', 'i32', 'i64'])
          .launch({ grid: [blocks, 1, 1], block: [256, 1, 1] }, this.ctx.stream, [o.ptr, o.dtype === 'f32' ? 1 : 0, acc, xs, w.scalesPtr, n, count]);
        this.routes.set(key, route);
        return;
      } catch (err) {
        if (!unsupported(err)) throw err;
        route = 'skinny-chunks';
      }
    }
    this.routes.set(key, route);
    // The skinny kernel 16 rows at a time, with the arithmetic the GEMM would have had.
    const outBytes = o.dtype === 'f32' ? 4 : 2;
    const xq = this.skinny === 'mma' ? this.quantizedInput(xt, m, k) : null;
    for (let r = 0; r < m; r += FP8_GEMV_MAX_M) {
      const rows = Math.min(FP8_GEMV_MAX_M, m - r);
      if (!xq) this.gemv(o, xt, w, r, rows);
      else this.skinnyMma(o, { codes: xq.codes + BigInt(r * k), scales: xq.scales + BigInt(4 * r) }, w, rows, o.ptr + BigInt(r * n * outBytes));
    }
  }

  /** out [m, n] = x's FP8 codes · codes(w)ᵀ * (x scales x w scales) on the tensor cores (m <= 16). */
  private skinnyMma(o: CudaTensor, x: Fp8Activation, w: CudaFp8Linear, m: number, outPtr: DevicePtr = o.ptr): void {
    const [n, k] = w.shape;
    const mt = m <= 8 ? 8 : 16;
    const kernel = this.ctx.kernels.kernel('fp8_skinny.cu', `fp8_skinny_m${mt}_u4_${o.dtype}`, ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'ptr', 'ptr', 'i32']);
    const tiles = Math.ceil(n / SKINNY_ROWS);
    const splits = this.splitsFor(k);
    let partial = 0n;
    let arrivals = 0n;
    if (splits > 1) {
      // Sized for the largest m so a graph never records a reallocation.
      partial = this.ctx.scratchBuffer('fp8.skinny.partial', 4 * splits * FP8_GEMV_MAX_M * n);
      arrivals = this.arrivalCounters(tiles);
    }
    kernel.launch({ grid: [tiles, splits, 1], block: [SKINNY_THREADS, 1, 1] }, this.ctx.stream, [outPtr, x.codes, x.scales, w.codesPtr, w.scalesPtr, m, n, k, partial, arrivals, this.preload()]);
  }

  /** 1 when a GEMM may load weights before its programmatic-launch wait: preloading is on and no
   *  kernel that writes weights can still be running. */
  private preload(): number {
    return this.weightPreload && this.ctx.weightsSettled ? 1 : 0;
  }

  /** Split-K factor of the skinny kernel for rows of k bytes: one split a splitKBytes (rounded),
   *  none for rows shorter than two. */
  private splitsFor(k: number): number {
    if (this.splitKBytes <= 0 || k < 2 * this.splitKBytes) return 1;
    return Math.min(MAX_SPLITS, Math.round(k / this.splitKBytes));
  }

  /** The split-K kernel's arrival counters, one a tile, zero between launches (each tile's last
   *  CTA resets its own); zeroed here when the buffer is new or grows. */
  private arrivalCounters(tiles: number): DevicePtr {
    const ptr = this.ctx.scratchBuffer('fp8.skinny.arrivals', 4 * tiles);
    if (ptr !== this.zeroedArrivals.ptr || tiles > this.zeroedArrivals.tiles) {
      this.ctx.driver.memsetD32(ptr, 0, tiles, this.ctx.stream);
      this.zeroedArrivals = { ptr, tiles };
    }
    return ptr;
  }

  /** Rows r0 .. r0+rows-1 of out = those rows of x · dequant(w)ᵀ by the FP8 GEMV (rows <= 16). */
  gemv(o: CudaTensor, x: CudaTensor, w: CudaFp8Linear, r0: number, rows: number): void {
    const [n, k] = w.shape;
    const base = GEMV_VARIANTS.find((v) => v.m >= rows) ?? GEMV_VARIANTS[GEMV_VARIANTS.length - 1];
    const variant = base.m === 1 && (n * k <= SMALL_GEMV_BYTES || k >= LONG_GEMV_ROW) ? SMALL_OR_LONG : base;
    const outBytes = o.dtype === 'f32' ? 4 : 2;
    this.ctx.kernels
      .kernel('fp8_gemv.cu', `fp8_gemv_m${base.m}${variant.suffix}_${o.dtype}`, GEMV_PARAMS)
      .launch({ grid: [Math.ceil(n / variant.rowsPerCta), 1, 1], block: [256, 1, 1] }, this.ctx.stream, [
        o.ptr + BigInt(r0 * n * outBytes),
        x.ptr + BigInt(r0 * k * 2),
        w.codesPtr,
        w.scalesPtr,
        rows,
        n,
        k,
        this.preload(),
      ]);
  }

  /**
   * act [1, d] = silu(gate) * up of gate|up = x [1, in] · dequant(w)ᵀ (w [2d, in]) in one GEMV
   * pass, bit-identical to linear + siluAndMul, when one row of x would take the GEMV; false
   * (nothing launched) otherwise.
   */
  linearSiluAndMul(act: CudaTensor, x: CudaTensor, w: CudaFp8Linear): boolean {
    const [m, k] = rowsCols(asCuda(x, 'linearSiluAndMul x', 'bf16'));
    const [n, wk] = w.shape;
    if (m !== 1 || this.quantizesActivations(1) || wk !== k || n % 2 !== 0 || x.ptr % 16n !== 0n) return false;
    const d = n / 2;
    const o = asCuda(act, 'linearSiluAndMul out', 'bf16');
    if (o.numel !== d) throw new Error(`linearSiluAndMul: out [${act.shape.join(', ')}] does not hold ${d} elements`);
    this.ctx.kernels
      .kernel('fp8_gemv.cu', 'fp8_gemv_silu_m1_bf16', GEMV_PARAMS)
      .launch({ grid: [Math.ceil(d / SILU_GEMV_PAIRS_PER_CTA), 1, 1], block: [256, 1, 1] }, this.ctx.stream, [o.ptr, x.ptr, w.codesPtr, w.scalesPtr, 1, n, k, this.preload()]);
    return true;
  }

  /**
   * One token's q|k|v = x · dequant(w)ᵀ with RoPE applied and k, v written to the paged cache,
   * in one GEMV pass (fp8_gemv.cu GEMV_ROPE), bit-identical to linear + ropeText + writeKv, when
   * one row of x would take the GEMV and the operands have the layout the kernel assumes; false
   * (nothing launched) otherwise.
   */
  linearRopeWriteKv(a: LinearRopeWriteKvArgs, w: CudaFp8Linear): boolean {
    const x = asCuda(a.x, 'linearRopeWriteKv x', 'bf16');
    const [n, k] = w.shape;
    const { numHeads, numKvHeads, headDim } = a;
    if (x.numel !== k || this.quantizesActivations(1) || x.ptr % 16n !== 0n || headDim % 2 !== 0 || n !== (numHeads + 2 * numKvHeads) * headDim) return false;
    const qkv = asCuda(a.qkv, 'linearRopeWriteKv qkv', 'bf16');
    const kc = asCuda(a.kCache, 'linearRopeWriteKv kCache', 'bf16');
    const vc = asCuda(a.vCache, 'linearRopeWriteKv vCache', 'bf16');
    const pos = asCuda(a.positions, 'linearRopeWriteKv positions', 'i32');
    const slots = asCuda(a.slotMapping, 'linearRopeWriteKv slotMapping', 'i32');
    if (qkv.numel !== n || pos.numel !== 1 || slots.numel !== 1 || kc.shape.length !== 4 || vc.numel !== kc.numel || kc.shape[2] * kc.shape[3] !== numKvHeads * headDim) return false;
    this.ctx.kernels
      .kernel('fp8_gemv.cu', 'fp8_gemv_rope_m1_bf16', [...GEMV_PARAMS, 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'f32', 'i64'])
      .launch({ grid: [Math.ceil(n / 2 / ROPE_GEMV_PAIRS_PER_CTA), 1, 1], block: [256, 1, 1] }, this.ctx.stream, [
        qkv.ptr, x.ptr, w.codesPtr, w.scalesPtr, 1, n, k, this.preload(),
        pos.ptr, slots.ptr, kc.ptr, vc.ptr, numHeads, numKvHeads, headDim, a.theta, kc.shape[0] * kc.shape[1],
      ]);
    return true;
  }

  /** bf16 out [out, in] = dequant(w) (tests, and reading a weight back). */
  dequantize(out: CudaTensor, w: CudaFp8Linear): void {
    const o = asCuda(out, 'dequantize out', 'bf16');
    const count = w.shape[0] * w.shape[1];
    if (o.numel !== count) throw new Error(`dequantize: out has ${o.numel} elements, the weight ${count}`);
    const blocks = Math.max(1, Math.min(Math.ceil(count / 256), this.ctx.info.multiprocessorCount * 32));
    this.ctx.kernels
      .kernel('fp8_quant.cu', 'dequantize_rows_e4m3', ['ptr', 'ptr', 'ptr', 'i32', 'i64'])
      .launch({ grid: [blocks, 1, 1], block: [256, 1, 1] }, this.ctx.stream, [o.ptr, w.codesPtr, w.scalesPtr, w.shape[1], count]);
  }
}
