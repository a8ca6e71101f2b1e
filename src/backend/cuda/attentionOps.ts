// Attention on the CUDA backend: which kernel serves a call and its launch shape.
//   paged (text): flash_attention.cu for prompt chunks (>= 16 query rows),
//     decode_attention.cu for decode steps (query rows x GQA group <= 8: each K/V row read once
//     per kv head), paged_attention.cu (warp per row and head) for the rest;
//   vision: flash_attention.cu's dense block-diagonal kernel, vision_attention.cu otherwise.
import type { PagedAttentionArgs, VisionAttentionArgs } from '../backend.js';
import type { CudaContext } from './cudaContext.js';
import { asCuda, checkNumel, type CudaTensor } from './cudaTensor.js';
import type { LaunchDims } from './ffi/launchArgs.js';

export interface AttentionOptions {
  /** Keys per split of the paged-attention context (forces the split-K path; tests use it).
   *  Default: split only when too few (token, head) rows would fill the GPU. */
  readonly attentionSplitLen?: number;
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
}

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

export class CudaAttention {
  private decodeCountersPtr = 0n;

  constructor(
    private readonly ctx: CudaContext,
    private readonly options: AttentionOptions,
  ) {}

  private launch(file: string, name: string, types: Parameters<CudaContext['kernels']['kernel']>[2], dims: LaunchDims, args: (bigint | number)[]): void {
    this.ctx.kernels.kernel(file, name, types).launch(dims, this.ctx.stream, args);
  }

  paged(a: PagedAttentionArgs): void {
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
      this.ctx.driver.memsetD8(ptr, 0, bytes, this.ctx.stream);
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

  vision(a: VisionAttentionArgs): void {
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
}

/** The attention kernel variant (dims per lane) for a head dim. */
function lanesFor(hd: number, what: string): number {
  for (const d of [1, 2, 4, 8]) if (hd <= 32 * d) return d;
  throw new Error(`${what}: head dim ${hd} over the supported 256`);
}
