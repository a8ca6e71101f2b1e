// The tensor-core flash kernels (flash_attention.cu) at the model's head dims, which the
// shared op suite (small head dims) does not reach: paged causal prefill with earlier context,
// a decode row and a fresh prompt in one batch (GQA 4:1), and block-diagonal vision attention
// over images whose patch counts are not multiples of the 64-row tile. Reference: float64 on
// the bf16-rounded inputs the GPU sees; bound 1e-2 (P and the output are rounded to bf16).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import type { DeviceTensor } from '../../../src/backend/backend.js';
import { attendRef, fromBf16Bits, relErr, toBf16Bits } from '../opsReference.js';

// Two backends: the default flash variant (ldmatrix) and the transposed-V one. `b` is
// switched between them by the test loops below.
let b: CudaBackend;
const variants: Record<string, CudaBackend> = {};
before(() => {
  variants.ldmatrix = new CudaBackend({ poisonAllocations: true });
  variants.transpose = new CudaBackend({ poisonAllocations: true, flashKernel: 'transpose' });
});
after(async () => {
  for (const v of Object.values(variants)) await v.close();
});

const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
/** Random values already on the bf16 grid, so host and device see the same numbers. */
const randBf16 = (n: number) => Float32Array.from({ length: n }, () => fromBf16Bits(toBf16Bits(Math.random() * 2 - 1)));
const act = (data: Float32Array, shape: number[]): DeviceTensor => {
  const t = b.alloc(shape, 'bf16');
  b.write(t, data);
  return t;
};
const ints = (data: ArrayLike<number>): DeviceTensor => {
  const t = b.alloc([data.length], 'i32');
  b.write(t, Int32Array.from(data));
  return t;
};

for (const [variant, hd] of [['ldmatrix', 128], ['ldmatrix', 64], ['transpose', 128], ['transpose', 64]] as const) {
  test(`flash paged attention (${variant}), head dim ${hd}: chunk over earlier context + decode + fresh prompt`, async () => {
    b = variants[variant];
    const [heads, kvHeads, blockSize] = [8, 2, 16];
    const kvW = kvHeads * hd;
    const ctxLens = [randInt(100, 200), randInt(20, 60), randInt(65, 140)];
    const qLens = [randInt(17, 90), 1, ctxLens[2]];
    const maxBlocks = Math.max(...ctxLens.map((c) => Math.ceil(c / blockSize)));
    const numBlocks = ctxLens.reduce((a, c) => a + Math.ceil(c / blockSize), 0) + 3;
    const free = Array.from({ length: numBlocks }, (_, i) => i).sort(() => Math.random() - 0.5);
    const tables = new Int32Array(ctxLens.length * maxBlocks).fill(-1);
    ctxLens.forEach((len, s) => {
      for (let j = 0; j < Math.ceil(len / blockSize); j++) tables[s * maxBlocks + j] = free.pop() as number;
    });
    const kCache = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
    const vCache = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
    const allK = ctxLens.map((len) => randBf16(len * kvW));
    const allV = ctxLens.map((len) => randBf16(len * kvW));
    ctxLens.forEach((len, s) => {
      const slots = Array.from({ length: len }, (_, t) => tables[s * maxBlocks + Math.floor(t / blockSize)] * blockSize + (t % blockSize));
      b.writeKv(kCache, vCache, act(allK[s], [len, kvW]), act(allV[s], [len, kvW]), ints(slots));
    });
    const numTok = qLens.reduce((a, c) => a + c, 0);
    const starts = [0];
    qLens.forEach((l) => starts.push(starts[starts.length - 1] + l));
    const q = randBf16(numTok * heads * hd);
    const out = b.alloc([numTok, heads * hd], 'bf16');
    const blockTables = b.alloc([ctxLens.length, maxBlocks], 'i32');
    b.write(blockTables, tables);
    const scale = 1 / Math.sqrt(hd);
    b.pagedAttention({
      out, q: act(q, [numTok, heads * hd]), kCache, vCache, numHeads: heads, numKvHeads: kvHeads, headDim: hd, scale,
      meta: { numSeqs: 3, queryStarts: ints(starts), contextLens: ints(ctxLens), blockTables, maxBlocksPerSeq: maxBlocks, maxQueryLen: Math.max(...qLens), maxContextLen: Math.max(...ctxLens) },
    });
    const got = await b.download(out);
    const ref = new Float64Array(numTok * heads * hd);
    ctxLens.forEach((len, s) => {
      for (let j = 0; j < qLens[s]; j++) {
        const pos = len - qLens[s] + j;
        const row = starts[s] + j;
        for (let h = 0; h < heads; h++) {
          const keys = Array.from({ length: pos + 1 }, (_, t) => t * kvW + Math.floor(h / (heads / kvHeads)) * hd);
          ref.set(attendRef(q, row * heads * hd + h * hd, keys, allK[s], allV[s], hd, scale), row * heads * hd + h * hd);
        }
      }
    });
    const e = relErr(got, ref);
    assert.ok(e <= 1e-2, `flash paged attention hd ${hd}: relative error ${e.toExponential(2)}`);
  });

  test(`flash vision attention (${variant}), head dim ${hd}: block-diagonal over two images`, async () => {
    b = variants[variant];
    const heads = 4;
    const sizes = [randInt(65, 100), randInt(101, 150)];
    const n = sizes[0] + sizes[1];
    const w = heads * hd;
    const [q, k, v] = [randBf16(n * w), randBf16(n * w), randBf16(n * w)];
    const out = b.alloc([n, w], 'bf16');
    b.visionAttention({
      out, q: act(q, [n, w]), k: act(k, [n, w]), v: act(v, [n, w]), numHeads: heads, headDim: hd, scale: 0.125,
      spans: { patchStarts: ints([0, sizes[0], n]), gridRows: [1, 1], gridCols: sizes, maxPatches: Math.max(...sizes) },
    });
    const got = await b.download(out);
    const ref = new Float64Array(n * w);
    for (let i = 0; i < n; i++) {
      const [lo, hi] = i < sizes[0] ? [0, sizes[0]] : [sizes[0], n];
      for (let h = 0; h < heads; h++) {
        const keys = Array.from({ length: hi - lo }, (_, t) => (lo + t) * w + h * hd);
        ref.set(attendRef(q, i * w + h * hd, keys, k, v, hd, 0.125), i * w + h * hd);
      }
    }
    const e = relErr(got, ref);
    assert.ok(e <= 1e-2, `flash vision attention hd ${hd}: relative error ${e.toExponential(2)}`);
  });
}

for (const hd of [128, 64]) {
  test(`decode attention (8 keys in flight, split context), head dim ${hd}`, async () => {
    b = variants.ldmatrix;
    const [heads, kvHeads, blockSize] = [8, 2, 16];
    const kvW = kvHeads * hd;
    const ctxLens = [randInt(200, 700), randInt(1, 20), randInt(300, 900), randInt(30, 90)];
    const numSeqs = ctxLens.length;
    const maxBlocks = Math.max(...ctxLens.map((c) => Math.ceil(c / blockSize)));
    const numBlocks = ctxLens.reduce((a, c) => a + Math.ceil(c / blockSize), 0);
    const free = Array.from({ length: numBlocks }, (_, i) => i).sort(() => Math.random() - 0.5);
    const tables = new Int32Array(numSeqs * maxBlocks).fill(-1);
    ctxLens.forEach((len, s) => {
      for (let j = 0; j < Math.ceil(len / blockSize); j++) tables[s * maxBlocks + j] = free.pop() as number;
    });
    const kCache = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
    const vCache = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
    const allK = ctxLens.map((len) => randBf16(len * kvW));
    const allV = ctxLens.map((len) => randBf16(len * kvW));
    ctxLens.forEach((len, s) => {
      const slots = Array.from({ length: len }, (_, t) => tables[s * maxBlocks + Math.floor(t / blockSize)] * blockSize + (t % blockSize));
      b.writeKv(kCache, vCache, act(allK[s], [len, kvW]), act(allV[s], [len, kvW]), ints(slots));
    });
    const q = randBf16(numSeqs * heads * hd);
    const out = b.alloc([numSeqs, heads * hd], 'bf16');
    const blockTables = b.alloc([numSeqs, maxBlocks], 'i32');
    b.write(blockTables, tables);
    const scale = 1 / Math.sqrt(hd);
    b.pagedAttention({
      out, q: act(q, [numSeqs, heads * hd]), kCache, vCache, numHeads: heads, numKvHeads: kvHeads, headDim: hd, scale,
      meta: { numSeqs, queryStarts: ints([0, 1, 2, 3, 4]), contextLens: ints(ctxLens), blockTables, maxBlocksPerSeq: maxBlocks, maxQueryLen: 1, maxContextLen: Math.max(...ctxLens) },
    });
    const got = await b.download(out);
    const ref = new Float64Array(numSeqs * heads * hd);
    ctxLens.forEach((len, s) => {
      for (let h = 0; h < heads; h++) {
        const keys = Array.from({ length: len }, (_, t) => t * kvW + Math.floor(h / (heads / kvHeads)) * hd);
        ref.set(attendRef(q, s * heads * hd + h * hd, keys, allK[s], allV[s], hd, scale), s * heads * hd + h * hd);
      }
    });
    const e = relErr(got, ref);
    assert.ok(e <= 1e-2, `decode attention hd ${hd}: relative error ${e.toExponential(2)}`);
  });
}
