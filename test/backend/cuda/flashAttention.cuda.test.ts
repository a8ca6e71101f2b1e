// The tensor-core flash kernels (flash_attention.cu) at the model's head dims, which the
// shared op suite (small head dims) does not reach: paged causal prefill with earlier context,
// a decode row and a fresh prompt in one batch (GQA 4:1), chunks and prompts longer than one
// query tile (128 rows) and not multiples of it, and block-diagonal vision attention over
// images whose patch counts are not multiples of the tile. Every kernel variant (8 warps x 16
// rows; 4 x 32 with key tiles of 64 or 32).
// Reference: float64 on the bf16-rounded inputs the GPU sees; bound 1e-2 (P and the output are
// rounded to bf16).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend, type FlashVariant } from '../../../src/backend/cuda/cudaBackend.js';
import type { DeviceTensor } from '../../../src/backend/backend.js';
import { attendRef, fromBf16Bits, pagedAttentionRef, relErr, shuffledBlockTables, toBf16Bits } from '../opsReference.js';
import { activation, int32s } from '../deviceData.js';

// One backend per kernel variant; `b` is switched between them by the test loops below.
let b: CudaBackend;
const variants: Record<string, CudaBackend> = {};
const VARIANTS: readonly FlashVariant[] = ['w8', 'w4', 'w4k32'];
before(() => {
  for (const v of VARIANTS) variants[v] = new CudaBackend({ poisonAllocations: true, flashVariant: v });
});
after(async () => {
  for (const v of Object.values(variants)) await v.close();
});

const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
/** Random values already on the bf16 grid, so host and device see the same numbers. */
const randBf16 = (n: number) => Float32Array.from({ length: n }, () => fromBf16Bits(toBf16Bits(Math.random() * 2 - 1)));
const act = (data: Float32Array, shape: number[]): DeviceTensor => activation(b, data, shape);
const ints = (data: ArrayLike<number>): DeviceTensor => int32s(b, data);

/** Paged causal attention of sequences with these context and query lengths (the queries are
 *  the last qLens[s] positions of each context) against float64; returns the relative error. */
async function pagedCase(hd: number, ctxLens: number[], qLens: number[]): Promise<number> {
  const [heads, kvHeads, blockSize] = [8, 2, 16];
  const kvW = kvHeads * hd;
  const maxBlocks = Math.max(...ctxLens.map((c) => Math.ceil(c / blockSize)));
  const numBlocks = ctxLens.reduce((a, c) => a + Math.ceil(c / blockSize), 0) + 3;
  const tables = shuffledBlockTables(ctxLens, blockSize, numBlocks, maxBlocks);
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
    meta: { numSeqs: ctxLens.length, queryStarts: ints(starts), contextLens: ints(ctxLens), blockTables, maxBlocksPerSeq: maxBlocks, maxQueryLen: Math.max(...qLens), maxContextLen: Math.max(...ctxLens) },
  });
  const got = await b.download(out);
  return relErr(got, pagedAttentionRef(q, allK, allV, ctxLens, qLens, { heads, kvHeads, hd, scale }));
}

/** Block-diagonal vision attention over images of these patch counts against float64. */
async function visionCase(hd: number, sizes: number[]): Promise<number> {
  const heads = 4;
  const starts = [0];
  sizes.forEach((l) => starts.push(starts[starts.length - 1] + l));
  const n = starts[sizes.length];
  const w = heads * hd;
  const [q, k, v] = [randBf16(n * w), randBf16(n * w), randBf16(n * w)];
  const out = b.alloc([n, w], 'bf16');
  b.visionAttention({
    out, q: act(q, [n, w]), k: act(k, [n, w]), v: act(v, [n, w]), numHeads: heads, headDim: hd, scale: 0.125,
    spans: { patchStarts: ints(starts), gridRows: sizes.map(() => 1), gridCols: sizes, maxPatches: Math.max(...sizes) },
  });
  const got = await b.download(out);
  const ref = new Float64Array(n * w);
  sizes.forEach((size, img) => {
    const lo = starts[img];
    for (let i = lo; i < lo + size; i++) {
      for (let h = 0; h < heads; h++) {
        const keys = Array.from({ length: size }, (_, t) => (lo + t) * w + h * hd);
        ref.set(attendRef(q, i * w + h * hd, keys, k, v, hd, 0.125), i * w + h * hd);
      }
    }
  });
  return relErr(got, ref);
}

for (const [variant, hd] of VARIANTS.flatMap((v) => [[v, 128], [v, 64]] as const)) {
  test(`flash paged attention (${variant}), head dim ${hd}: chunk over earlier context + decode + fresh prompt`, async () => {
    b = variants[variant];
    const ctxLens = [randInt(100, 200), randInt(20, 60), randInt(65, 140)];
    const e = await pagedCase(hd, ctxLens, [randInt(17, 90), 1, ctxLens[2]]);
    assert.ok(e <= 1e-2, `flash paged attention hd ${hd}: relative error ${e.toExponential(2)}`);
  });

  test(`flash paged attention (${variant}), head dim ${hd}: chunks and prompts over several query tiles`, async () => {
    b = variants[variant];
    // A chunk of 129..300 rows over context that is not a multiple of the 64-key tile, a fresh
    // prompt of 130..260 rows, and one of exactly 128.
    const ctxLens = [randInt(420, 700), randInt(130, 260), 128];
    const e = await pagedCase(hd, ctxLens, [randInt(129, 300), ctxLens[1], 128]);
    assert.ok(e <= 1e-2, `flash paged attention hd ${hd}: relative error ${e.toExponential(2)}`);
  });

  test(`flash vision attention (${variant}), head dim ${hd}: block-diagonal over three images`, async () => {
    b = variants[variant];
    const e = await visionCase(hd, [randInt(65, 100), randInt(101, 150), randInt(200, 330)]);
    assert.ok(e <= 1e-2, `flash vision attention hd ${hd}: relative error ${e.toExponential(2)}`);
  });
}

for (const hd of [128, 64]) {
  test(`decode attention (one query row per sequence, split context), head dim ${hd}`, async () => {
    b = variants.w8;
    const ctxLens = [randInt(200, 700), randInt(1, 20), randInt(300, 900), randInt(30, 90)];
    const e = await pagedCase(hd, ctxLens, ctxLens.map(() => 1));
    assert.ok(e <= 1e-2, `decode attention hd ${hd}: relative error ${e.toExponential(2)}`);
  });
}
