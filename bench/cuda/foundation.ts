// Foundation benchmark of the CUDA backend, run on the GPU machine in one go:
//   node dist/bench/cuda/foundation.js [results.json] [section,section,...] [variant,...]
// (the optional lists run only those sections, e.g. prefill-attention,vision-attention, and
// only those flash-attention variants, e.g. w8,w4).
// Device facts; NVRTC compile of every kernel (cold and from the disk cache); device copy
// bandwidth; cuBLASLt correctness against a float64 host product and its rate at 8192^3 and
// at the model's decode (M=1) and prefill (M=4096) shapes; CUDA-graph replay against direct
// launches; paged decode attention and prefill attention; sampling over a 131072 vocabulary.
// Each section catches its own failure so one broken piece does not hide the rest.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { KernelLibrary } from '../../src/backend/cuda/kernelLibrary.js';
import { Nvrtc } from '../../src/backend/cuda/ffi/nvrtc.js';
import type { CudaTensor } from '../../src/backend/cuda/cudaTensor.js';
import type { DeviceTensor } from '../../src/backend/backend.js';

const results: Record<string, unknown> = { date: new Date().toISOString(), command: process.argv.join(' ') };
const table: string[] = [];
const cacheDir = join(tmpdir(), `tramontane-kernels-${process.pid}`);
const b = new CudaBackend({ kernelCacheDir: cacheDir });
const { driver: d, stream } = b.ctx;
const ev0 = d.createEvent();
const ev1 = d.createEvent();

function median(xs: number[]): number {
  const s = [...xs].sort((a, c) => a - c);
  return s[Math.floor(s.length / 2)];
}

/** Median device time of `fn` in ms (events around each repetition, after warm-up), on
 *  stream `on` (default: the main backend's). */
function timeMs(fn: (rep: number) => void, reps: number, warmup = 3, on = stream): { median: number; min: number; max: number } {
  d.streamSynchronize(stream); // inputs written on the main stream are complete
  for (let i = 0; i < warmup; i++) fn(i);
  d.streamSynchronize(on);
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    d.recordEvent(ev0, on);
    fn(i);
    d.recordEvent(ev1, on);
    d.eventSynchronize(ev1);
    t.push(d.elapsedMs(ev0, ev1));
  }
  return { median: median(t), min: Math.min(...t), max: Math.max(...t) };
}

const onlySections = process.argv[3]?.split(',');

async function section(name: string, fn: () => void | Promise<void>): Promise<void> {
  if (onlySections && name !== 'device' && !onlySections.includes(name)) return;
  const t0 = performance.now();
  try {
    await fn();
    console.log(`[ok] ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    console.log(`[FAILED] ${name}: ${(err as Error).stack ?? String(err)}`);
    results[`${name}.error`] = String(err);
    try {
      d.streamSynchronize(stream);
    } catch (e) {
      console.log(`  stream is broken after ${name}: ${String(e)}`);
    }
  }
}

const fillKernel = () => b.ctx.kernels.kernel('fill.cu', 'fill_uniform_bf16', ['ptr', 'i64', 'u32', 'f32']);
function fill(t: DeviceTensor, seed: number, scale = 1): void {
  const c = t as CudaTensor;
  fillKernel().launch({ grid: [b.ctx.info.multiprocessorCount * 8, 1, 1], block: [256, 1, 1] }, stream, [c.ptr, c.numel, seed, scale]);
}

await section('device', () => {
  const info = b.ctx.info;
  results.device = { ...info, nvrtc: Nvrtc.get().version, libcuda: d.libraryPath, libnvrtc: Nvrtc.get().libraryPath, mem: d.memInfo() };
  table.push(`device: ${info.name}, cc ${info.computeCapability.join('.')} (${info.arch}), ${info.multiprocessorCount} SMs, ${(info.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, driver ${info.driverVersion}, NVRTC ${Nvrtc.get().version}`);
});

await section('nvrtc', () => {
  const files = b.ctx.kernels.files();
  for (const f of files) b.ctx.kernels.module(f);
  const cold = b.ctx.kernels.stats.map((s) => ({ ...s }));
  const warm = new KernelLibrary(d, b.ctx.info.arch, b.ctx.kernels.dir, cacheDir);
  const t0 = performance.now();
  for (const f of files) warm.module(f);
  const warmMs = performance.now() - t0;
  warm.dispose();
  results.nvrtc = { cold, cachedLoadAllMs: warmMs };
  table.push(`nvrtc ${b.ctx.info.arch}: ${files.length} files compiled, ${cold.reduce((a, s) => a + s.compileMs, 0).toFixed(0)} ms cold (max ${Math.max(...cold.map((s) => s.compileMs)).toFixed(0)} ms: ${cold.sort((a, c) => c.compileMs - a.compileMs)[0].file}); all from cache ${warmMs.toFixed(1)} ms`);
});

await section('copy', () => {
  const bytes = 2 ** 30;
  const a = b.alloc([bytes / 2], 'bf16') as CudaTensor;
  const c = b.alloc([bytes / 2], 'bf16') as CudaTensor;
  fill(a, 1);
  const t = timeMs(() => d.copyDtoD(c.ptr, a.ptr, bytes, stream), 10);
  const gbs = (2 * bytes) / (t.median * 1e6);
  results.copy = { bytes, ms: t, gbPerS: gbs };
  table.push(`device copy 1 GiB: ${t.median.toFixed(3)} ms = ${gbs.toFixed(0)} GB/s (read + write)`);
  b.free(a);
  b.free(c);
});

function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = out[i] - ref[i];
    num += e * e;
    den += ref[i] * ref[i];
  }
  return Number.isFinite(num) ? Math.sqrt(num / den) : NaN;
}

await section('gemm-correctness', async () => {
  const rows: unknown[] = [];
  for (const [m, n, k] of [[77, 300, 520], [1, 5120, 640], [3, 5, 7], [64, 1024, 2048]]) {
    const x = Float32Array.from({ length: m * k }, () => Math.random() * 2 - 1);
    const w = Float32Array.from({ length: n * k }, () => Math.random() * 2 - 1);
    const round = (v: Float32Array) => {
      const u = new Uint32Array(v.buffer.slice(0));
      return Float64Array.from(u, (bits) => new Float32Array(new Uint32Array([((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) << 16]).buffer)[0]);
    };
    const xr = round(x);
    const wr = round(w);
    const ref = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += xr[i * k + p] * wr[j * k + p];
      ref[i * n + j] = s;
    }
    const xt = b.alloc([m, k], 'bf16');
    b.write(xt, x);
    const wt = b.uploadWeight({ name: 'w', dtype: 'f32', shape: [n, k], data: new Uint8Array(w.buffer) });
    for (const outType of ['f32', 'bf16'] as const) {
      const o = b.alloc([m, n], outType);
      d.memsetD8((o as CudaTensor).ptr, 0xff, (o as CudaTensor).bytes, stream);
      b.matmul(o, xt, wt);
      d.streamSynchronize(stream);
      const got = await b.download(o);
      const e = relErr(got, ref);
      rows.push({ m, n, k, outType, relErr: e });
      table.push(`cublasLt bf16 ${m}x${n}x${k} -> ${outType}: rel err ${e.toExponential(2)} vs f64 of the bf16 inputs ${e < (outType === 'f32' ? 1e-4 : 5e-3) ? 'PASS' : 'FAIL'}`);
      b.free(o);
    }
    b.free(xt);
    b.free(wt);
  }
  results.gemmCorrectness = rows;
});

await section('gemm-rate', () => {
  const shapes: [string, number, number, number, 'bf16' | 'f32'][] = [
    ['square 8192', 8192, 8192, 8192, 'bf16'],
    ['decode qkv', 1, 6144, 5120, 'bf16'],
    ['decode o_proj', 1, 5120, 4096, 'bf16'],
    ['decode 5120x5120', 1, 5120, 5120, 'bf16'],
    ['decode 32768x5120', 1, 32768, 5120, 'bf16'],
    ['decode gate_up', 1, 65536, 5120, 'bf16'],
    ['decode down', 1, 5120, 32768, 'bf16'],
    ['decode lm_head', 1, 131072, 5120, 'f32'],
    ['batch2 qkv', 2, 6144, 5120, 'bf16'],
    ['batch2 gate_up', 2, 65536, 5120, 'bf16'],
    ['batch4 qkv', 4, 6144, 5120, 'bf16'],
    ['batch8 gate_up', 8, 65536, 5120, 'bf16'],
    ['prefill qkv', 4096, 6144, 5120, 'bf16'],
    ['prefill gate_up', 4096, 65536, 5120, 'bf16'],
    ['prefill down', 4096, 5120, 32768, 'bf16'],
  ];
  const rows: unknown[] = [];
  for (const [name, m, n, k, outType] of shapes) {
    const wBytes = n * k * 2;
    const copies = Math.max(1, Math.min(6, Math.ceil((256 * 2 ** 20) / wBytes))); // rotate past the 50 MB L2
    const ws = Array.from({ length: copies }, (_, i) => {
      const t = b.alloc([n, k], 'bf16');
      fill(t, 100 + i, 0.05);
      return t as CudaTensor;
    });
    const x = b.alloc([m, k], 'bf16') as CudaTensor;
    fill(x, 7);
    const y = b.alloc([m, n], outType) as CudaTensor;
    const reps = m * n * k > 1e11 ? 20 : 100;
    const t = timeMs((i) => b.ctx.cublas.linear(y.ptr, x.ptr, ws[i % copies].ptr, m, n, k, stream, outType), reps, 5);
    const flops = 2 * m * n * k;
    const bytes = wBytes + m * k * 2 + m * n * (outType === 'f32' ? 4 : 2);
    const r = { name, m, n, k, outType, ms: t, tflops: flops / (t.median * 1e9), gbPerS: bytes / (t.median * 1e6) };
    let gemvNote = '';
    if (m <= 8) {
      // Our gemv kernel on the same buffers (CudaBackend.matmul picks it for m <= gemvMaxRows).
      const tg = timeMs((i) => b.gemv(y, x, ws[i % copies]), reps, 5);
      Object.assign(r, { gemvMs: tg, gemvGbPerS: bytes / (tg.median * 1e6) });
      gemvNote = `  | gemv ${tg.median.toFixed(4)} ms ${(bytes / (tg.median * 1e6)).toFixed(0)} GB/s`;
    }
    rows.push(r);
    table.push(`gemm ${name.padEnd(18)} ${`${m}x${n}x${k}`.padEnd(18)} ${t.median.toFixed(4).padStart(9)} ms  ${r.tflops.toFixed(1).padStart(6)} TFLOP/s  ${r.gbPerS.toFixed(0).padStart(5)} GB/s${gemvNote}`);
    for (const w of ws) b.free(w);
    b.free(x);
    b.free(y);
  }
  results.gemmRate = rows;
});

await section('graph', () => {
  const n = 4096;
  const a = b.alloc([n], 'bf16');
  const c = b.alloc([n], 'bf16');
  fill(a, 3);
  fill(c, 4);
  const launches = 400;
  const body = () => {
    for (let i = 0; i < launches; i++) b.add(c, a, c);
  };
  body();
  d.streamSynchronize(stream);
  const t0 = performance.now();
  for (let r = 0; r < 5; r++) body();
  d.streamSynchronize(stream);
  const directMs = (performance.now() - t0) / 5;
  d.beginCapture(stream);
  body();
  const graph = d.endCapture(stream);
  const exec = d.instantiateGraph(graph);
  const t = timeMs(() => d.launchGraph(exec, stream), 20);
  d.destroyGraphExec(exec);
  d.destroyGraph(graph);
  results.graph = { launches, directHostMs: directMs, graphReplayMs: t };
  table.push(`graph: ${launches} small kernels: direct launches ${directMs.toFixed(2)} ms (host clock), graph replay ${t.median.toFixed(3)} ms`);
});

function pagedSetup(numSeqs: number, ctxLen: number, queryLen: number) {
  const [heads, kvHeads, hd, blockSize] = [32, 8, 128, 16];
  const blocksPer = Math.ceil(ctxLen / blockSize);
  const numBlocks = numSeqs * blocksPer;
  const kc = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
  const vc = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
  fill(kc, 11);
  fill(vc, 12);
  const tables = Int32Array.from({ length: numSeqs * blocksPer }, (_, i) => i);
  const bt = b.alloc([numSeqs, blocksPer], 'i32');
  b.write(bt, tables);
  const qs = b.alloc([numSeqs + 1], 'i32');
  b.write(qs, Int32Array.from({ length: numSeqs + 1 }, (_, i) => i * queryLen));
  const cl = b.alloc([numSeqs], 'i32');
  b.write(cl, new Int32Array(numSeqs).fill(ctxLen));
  const q = b.alloc([numSeqs * queryLen, heads * hd], 'bf16');
  fill(q, 13);
  const out = b.alloc([numSeqs * queryLen, heads * hd], 'bf16');
  const args = {
    out, q, kCache: kc, vCache: vc, numHeads: heads, numKvHeads: kvHeads, headDim: hd, scale: 1 / Math.sqrt(hd),
    meta: { numSeqs, queryStarts: qs, contextLens: cl, blockTables: bt, maxBlocksPerSeq: blocksPer, maxQueryLen: queryLen, maxContextLen: ctxLen },
  };
  return { args, free: () => [kc, vc, bt, qs, cl, q, out].forEach((t) => b.free(t)), kvBytes: 2 * numSeqs * ctxLen * kvHeads * hd * 2 };
}

await section('decode-attention', async () => {
  // Three kernels on the same buffers: decode_attention.cu with the fused combine (`b`, the
  // default), with the attention_combine launch, and paged_attention.cu (decodeAttention:
  // false, the kernel before). Each timed eagerly (events around one call, so the host's
  // launch cost shows when the GPU outruns it) and as a CUDA graph of 10 calls (per call:
  // what a decode-graph replay pays); outputs compared with each other.
  const kinds: [string, CudaBackend][] = [
    ['fused', b],
    ['combine-kernel', new CudaBackend({ kernelCacheDir: cacheDir, decodeCombine: 'kernel' })],
    ['old', new CudaBackend({ kernelCacheDir: cacheDir, decodeAttention: false })],
  ];
  const timeOn = (be: CudaBackend, fn: () => void, reps: number, perRun = 1) => {
    for (let i = 0; i < 3; i++) fn();
    d.streamSynchronize(be.ctx.stream);
    const t: number[] = [];
    for (let i = 0; i < reps; i++) {
      d.recordEvent(ev0, be.ctx.stream);
      fn();
      d.recordEvent(ev1, be.ctx.stream);
      d.eventSynchronize(ev1);
      t.push(d.elapsedMs(ev0, ev1) / perRun);
    }
    return { median: median(t), min: Math.min(...t), max: Math.max(...t) };
  };
  const us = (ms: number) => (ms * 1e3).toFixed(1);
  const rows: unknown[] = [];
  for (const [numSeqs, ctxLen] of [[1, 4096], [1, 32768], [1, 131072], [32, 4096], [64, 1100]]) {
    const s = pagedSetup(numSeqs, ctxLen, 1);
    const floorUs = s.kvBytes / 3.0e6;
    const row: Record<string, unknown> = { numSeqs, ctxLen, kvBytes: s.kvBytes, floorUs };
    let first: Float32Array | Int32Array | null = null;
    const parts: string[] = [];
    for (const [kind, be] of kinds) {
      const eager = timeOn(be, () => be.pagedAttention(s.args), 20);
      const graph = be.captureGraph(() => {
        for (let i = 0; i < 10; i++) be.pagedAttention(s.args);
      });
      const graphed = timeOn(be, () => graph.replay(), 10, 10);
      graph.dispose();
      const got = await be.download(s.args.out);
      first ??= got;
      const diff = relErr(got, first);
      row[kind] = { eagerMs: eager, graphMs: graphed, gbPerS: s.kvBytes / (graphed.median * 1e6), relDiffVsFused: diff };
      parts.push(`${kind} ${us(graphed.median)} us (${(s.kvBytes / (graphed.median * 1e6)).toFixed(0)} GB/s; eager ${us(eager.median)}; diff ${diff.toExponential(1)})`);
    }
    rows.push(row);
    table.push(`decode attention ${numSeqs} seq x ctx ${ctxLen} (KV ${(s.kvBytes / 1e6).toFixed(0)} MB, floor ${floorUs.toFixed(1)} us at 3.0 TB/s), graph replay per call: ${parts.join('; ')}`);
    s.free();
  }
  for (const [, be] of kinds.slice(1)) await be.close();
  results.decodeAttention = rows;

  // Split-length sweep of the fused kernel (graph replay), to check the split heuristic.
  const sweep: unknown[] = [];
  for (const [numSeqs, ctxLen] of [[1, 4096], [1, 32768], [1, 131072], [8, 4096]]) {
    const s = pagedSetup(numSeqs, ctxLen, 1);
    const parts: string[] = [];
    for (const splitLen of [64, 128, 256, 512, 1024, 2048, 4096]) {
      if (ctxLen / splitLen > 256) continue;
      const be = new CudaBackend({ kernelCacheDir: cacheDir, attentionSplitLen: splitLen });
      be.pagedAttention(s.args);
      const graph = be.captureGraph(() => {
        for (let i = 0; i < 10; i++) be.pagedAttention(s.args);
      });
      const t = timeOn(be, () => graph.replay(), 10, 10);
      graph.dispose();
      await be.close();
      sweep.push({ numSeqs, ctxLen, splitLen, graphMs: t });
      parts.push(`${splitLen}: ${us(t.median)}`);
    }
    table.push(`decode attention ${numSeqs} x ${ctxLen}, fused, us per call by split length: ${parts.join(', ')}`);
    s.free();
  }
  results.decodeAttentionSplitSweep = sweep;

  // As decode graphs call it: maxContextLen a power-of-two bound over the longest context
  // (splits past a context exit at once); auto split and forced ones.
  const bounded: unknown[] = [];
  for (const [numSeqs, ctxLen, bound] of [[1, 70000, 131072], [1, 100000, 131072], [1, 20000, 32768], [64, 1100, 2048], [8, 3000, 4096]]) {
    const s = pagedSetup(numSeqs, ctxLen, 1);
    const args = { ...s.args, meta: { ...s.args.meta, maxContextLen: bound } };
    const parts: string[] = [];
    for (const splitLen of [0, 1024, 2048, 4096]) {
      const be = new CudaBackend({ kernelCacheDir: cacheDir, attentionSplitLen: splitLen || undefined });
      be.pagedAttention(args);
      const graph = be.captureGraph(() => {
        for (let i = 0; i < 10; i++) be.pagedAttention(args);
      });
      const t = timeOn(be, () => graph.replay(), 10, 10);
      graph.dispose();
      await be.close();
      bounded.push({ numSeqs, ctxLen, bound, splitLen: splitLen || 'auto', graphMs: t, gbPerS: s.kvBytes / (t.median * 1e6) });
      parts.push(`${splitLen || 'auto'}: ${us(t.median)} (${(s.kvBytes / (t.median * 1e6)).toFixed(0)} GB/s)`);
    }
    table.push(`decode attention ${numSeqs} x ${ctxLen} under graph bound ${bound}, us per call by split length: ${parts.join(', ')}`);
    s.free();
  }
  results.decodeAttentionBounded = bounded;
});

// The flash-attention kernel variants compared (cudaBackend.ts FlashVariant): the main backend
// runs the default; one more backend per other variant.
const extraBackends: CudaBackend[] = [];
let variantList: [string, CudaBackend][] | null = null;
const flashVariants = (): [string, CudaBackend][] =>
  (variantList ??= (['w8', 'w4', 'w4k32'] as const).filter((v) => !process.argv[4] || process.argv[4].split(',').includes(v)).map((v) => {
    const be = new CudaBackend({ kernelCacheDir: cacheDir, flashVariant: v });
    extraBackends.push(be);
    return [v, be];
  }));

await section('prefill-attention', () => {
  const rows: unknown[] = [];
  // [context, new tokens]: a whole 4096 prompt, and 2048-token chunks over earlier context.
  for (const [ctx, len] of [[4096, 4096], [4096, 2048], [32768, 2048]]) {
    const s = pagedSetup(1, ctx, len);
    for (const [variant, be] of flashVariants()) {
      const t = timeMs(() => be.pagedAttention(s.args), 10, 2, be.ctx.stream);
      // causal: row j (position ctx - len + j) sees ctx - len + j + 1 keys
      const pairs = len * (ctx - len) + (len * (len + 1)) / 2;
      const flops = 4 * pairs * 128 * 32;
      const tflops = flops / (t.median * 1e9);
      rows.push({ variant, ctx, len, ms: t, gflop: flops / 1e9, tflops });
      table.push(`prefill attention ${len} new over ctx ${ctx} (32/8 heads, hd 128, ${variant}): ${t.median.toFixed(3)} ms = ${tflops.toFixed(0)} TFLOP/s (floor ${(flops / 778e9).toFixed(3)} ms at 778)`);
    }
    s.free();
  }
  results.prefillAttention = rows;
});

await section('vision-attention', () => {
  const [n, heads, hd] = [12100, 16, 64];
  const w = heads * hd;
  const q = b.alloc([n, w], 'bf16');
  const k = b.alloc([n, w], 'bf16');
  const v = b.alloc([n, w], 'bf16');
  const out = b.alloc([n, w], 'bf16');
  fill(q, 21);
  fill(k, 22);
  fill(v, 23);
  const ps = b.alloc([2], 'i32');
  b.write(ps, Int32Array.from([0, n]));
  const args = { out, q, k, v, numHeads: heads, headDim: hd, scale: 0.125, spans: { patchStarts: ps, gridRows: [110], gridCols: [110], maxPatches: n } };
  const rows: unknown[] = [];
  for (const [variant, be] of flashVariants()) {
    const t = timeMs(() => be.visionAttention(args), 10, 2, be.ctx.stream);
    const flops = 4 * n * n * hd * heads;
    rows.push({ variant, n, heads, hd, ms: t, tflops: flops / (t.median * 1e9) });
    table.push(`vision attention 1 image x ${n} patches (16 heads x 64, ${variant}): ${t.median.toFixed(3)} ms = ${(flops / (t.median * 1e9)).toFixed(0)} TFLOP/s; x24 layers = ${(24 * t.median).toFixed(1)} ms`);
  }
  results.visionAttention = rows;
  [q, k, v, out, ps].forEach((x) => b.free(x));
});

await section('sampling', async () => {
  const vocab = 131072;
  const logits = b.alloc([64, vocab], 'f32');
  b.write(logits, Float32Array.from({ length: 64 * vocab }, () => Math.random() * 20 - 10));
  const base = {
    temperature: 0, topK: 0, topP: 1, minP: 0, seed: 1, step: 0, presencePenalty: 0, frequencyPenalty: 0,
    repetitionPenalty: 1, promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: -1,
  };
  const cases = [
    ['greedy', { ...base }],
    ['greedy+5 logprobs', { ...base, numLogprobs: 5 }],
    ['T=0.7 top-k 50 top-p 0.9', { ...base, temperature: 0.7, topK: 50, topP: 0.9 }],
    ['T=1 top-p 0.95', { ...base, temperature: 1, topP: 0.95 }],
    ['T=0.15', { ...base, temperature: 0.15 }],
  ] as const;
  const rows: unknown[] = [];
  // One row, then 64 rows at once (a serving step's batch): the rows run as parallel CTAs.
  for (const [name, params, numRows] of cases.flatMap(([n, p]) => [[n, p, 1], [n, p, 64]] as const)) {
    const run = () => b.sample(logits, Array.from({ length: numRows }, (_, row) => ({ row, params: { ...params, step: row } })));
    await run();
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    rows.push({ name, rows: numRows, hostMs: median(times) });
    table.push(`sample ${numRows} row(s) x ${vocab} (${name}): ${median(times).toFixed(3)} ms incl. host round trip`);
  }
  results.sampling = rows;
  b.free(logits);
});

for (const be of extraBackends) await be.close();
await b.close();
console.log('\n' + table.join('\n'));
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify({ ...results, table }, null, 1));
