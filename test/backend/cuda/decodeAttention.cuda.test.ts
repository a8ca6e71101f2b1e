// The group-wise decode attention kernel (decode_attention.cu: one CTA per sequence, kv head
// and context split; rows = query tokens x heads of the GQA group, at most 8) against float64
// on the bf16-rounded inputs: GQA groups 1, 2, 4 and 8, head dims 64 and 128, several
// sequences of different lengths (not multiples of the 16-key tile or the 16-slot block),
// short multi-token chunks (causal inside the chunk), block sizes 8 and 32, the context split
// automatically, forced into 48-key splits (split ends inside tiles; merged by the fused last
// CTA and by attention_combine), into the most splits (256) and unsplit, every allocation
// poisoned to NaN first; a CUDA-graph replay with a context bound from the
// graph's shape; and a batch too wide for the kernel (rows > 8), which falls back to
// paged_attention.cu. Bound 1e-2 relative (P and the output are rounded to bf16).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import type { AttentionMetadata, DeviceTensor, PagedAttentionArgs } from '../../../src/backend/backend.js';
import { fromBf16Bits, pagedAttentionRef, relErr, shuffledBlockTables, toBf16Bits } from '../opsReference.js';
import { activation, int32s } from '../deviceData.js';

const variants: Record<string, CudaBackend> = {};
before(() => {
  variants.auto = new CudaBackend({ poisonAllocations: true });
  variants.split48 = new CudaBackend({ poisonAllocations: true, attentionSplitLen: 48 });
  variants.split48kernel = new CudaBackend({ poisonAllocations: true, attentionSplitLen: 48, decodeCombine: 'kernel' });
  // 1 key per split asks for more than the 256 splits the kernel merges: capped at 256.
  variants.splitMax = new CudaBackend({ poisonAllocations: true, attentionSplitLen: 1 });
  variants.unsplit = new CudaBackend({ poisonAllocations: true, attentionSplitLen: 1 << 20 });
});
after(async () => {
  for (const v of Object.values(variants)) await v.close();
});

const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
/** Random values already on the bf16 grid, so host and device see the same numbers. */
const randBf16 = (n: number, amp = 1) => Float32Array.from({ length: n }, () => fromBf16Bits(toBf16Bits((Math.random() * 2 - 1) * amp)));

interface Case {
  heads: number;
  kvHeads: number;
  hd: number;
  ctxLens: number[];
  qLens: number[];
  blockSize?: number;
}

/** A batch in device memory plus its float64 reference output. */
function setup(b: CudaBackend, c: Case) {
  const blockSize = c.blockSize ?? 16;
  const { heads, kvHeads, hd, ctxLens, qLens } = c;
  const kvW = kvHeads * hd;
  const act = (data: Float32Array, shape: number[]): DeviceTensor => activation(b, data, shape);
  const ints = (data: ArrayLike<number>): DeviceTensor => int32s(b, data);
  const numSeqs = ctxLens.length;
  const maxBlocks = Math.max(...ctxLens.map((l) => Math.ceil(l / blockSize)));
  const numBlocks = ctxLens.reduce((a, l) => a + Math.ceil(l / blockSize), 0) + 2;
  const tables = shuffledBlockTables(ctxLens, blockSize, numBlocks, maxBlocks);
  const kCache = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
  const vCache = b.alloc([numBlocks, blockSize, kvHeads, hd], 'bf16');
  // Keys with a larger spread than q so the softmax is far from uniform.
  const allK = ctxLens.map((len) => randBf16(len * kvW, 4));
  const allV = ctxLens.map((len) => randBf16(len * kvW));
  ctxLens.forEach((len, s) => {
    const slots = Array.from({ length: len }, (_, t) => tables[s * maxBlocks + Math.floor(t / blockSize)] * blockSize + (t % blockSize));
    b.writeKv(kCache, vCache, act(allK[s], [len, kvW]), act(allV[s], [len, kvW]), ints(slots));
  });
  const numTok = qLens.reduce((a, l) => a + l, 0);
  const starts = [0];
  qLens.forEach((l) => starts.push(starts[starts.length - 1] + l));
  const q = randBf16(numTok * heads * hd);
  const blockTables = b.alloc([numSeqs, maxBlocks], 'i32');
  b.write(blockTables, tables);
  const meta: AttentionMetadata = {
    numSeqs, queryStarts: ints(starts), contextLens: ints(ctxLens), blockTables, maxBlocksPerSeq: maxBlocks,
    maxQueryLen: Math.max(...qLens), maxContextLen: Math.max(...ctxLens),
  };
  const scale = 1 / Math.sqrt(hd);
  const args: PagedAttentionArgs = {
    out: b.alloc([numTok, heads * hd], 'bf16'), q: act(q, [numTok, heads * hd]), kCache, vCache,
    numHeads: heads, numKvHeads: kvHeads, headDim: hd, scale, meta,
  };
  const ref = pagedAttentionRef(q, allK, allV, ctxLens, qLens, { heads, kvHeads, hd, scale });
  return { args, ref };
}

const usedDecodeKernel = (b: CudaBackend) => b.ctx.kernels.stats.some((s) => s.file === 'decode_attention.cu');

async function check(variant: string, c: Case, what: string): Promise<void> {
  const b = variants[variant];
  const { args, ref } = setup(b, c);
  b.pagedAttention(args);
  const got = await b.download(args.out);
  const e = relErr(got, ref);
  assert.ok(e <= 1e-2, `${what} (${variant}): relative error ${e.toExponential(2)}`);
}

for (const hd of [128, 64]) {
  for (const variant of ['auto', 'split48', 'split48kernel', 'splitMax', 'unsplit']) {
    test(`decode attention hd ${hd}, GQA 4, 5 sequences of mixed lengths (${variant})`, async () => {
      const ctxLens = [randInt(200, 700), randInt(1, 20), randInt(900, 1500), randInt(30, 90), 1];
      await check(variant, { heads: 8, kvHeads: 2, hd, ctxLens, qLens: ctxLens.map(() => 1) }, `GQA 4 hd ${hd}`);
      assert.ok(usedDecodeKernel(variants[variant]), 'decode_attention.cu was not used');
    });
  }

  test(`decode attention hd ${hd}, GQA 8 and GQA 1 (MHA)`, async () => {
    const ctxLens = [randInt(100, 400), randInt(17, 33), randInt(500, 800)];
    await check('auto', { heads: 16, kvHeads: 2, hd, ctxLens, qLens: [1, 1, 1] }, `GQA 8 hd ${hd}`);
    await check('split48', { heads: 16, kvHeads: 2, hd, ctxLens, qLens: [1, 1, 1] }, `GQA 8 hd ${hd}`);
    await check('auto', { heads: 3, kvHeads: 3, hd, ctxLens, qLens: [1, 1, 1] }, `GQA 1 hd ${hd}`);
  });

  test(`decode attention hd ${hd}: short chunks of several query tokens (causal inside the chunk)`, async () => {
    // rows = queryLen x group <= 8 in each case
    await check('auto', { heads: 8, kvHeads: 2, hd, ctxLens: [randInt(40, 300), randInt(2, 9), randInt(300, 600)], qLens: [2, 1, 2] }, `GQA 4 x 2 tokens hd ${hd}`);
    await check('split48', { heads: 8, kvHeads: 4, hd, ctxLens: [randInt(40, 300), randInt(5, 9)], qLens: [3, 4] }, `GQA 2 x 4 tokens hd ${hd}`);
    await check('split48kernel', { heads: 8, kvHeads: 4, hd, ctxLens: [randInt(40, 300), randInt(5, 9)], qLens: [3, 4] }, `GQA 2 x 4 tokens hd ${hd}`);
    await check('unsplit', { heads: 2, kvHeads: 2, hd, ctxLens: [randInt(8, 12), randInt(100, 300), 1], qLens: [8, 5, 1] }, `GQA 1 x 8 tokens hd ${hd}`);
  });
}

test('decode attention, block size 8 and 32', async () => {
  for (const blockSize of [8, 32]) {
    const ctxLens = [randInt(100, 400), randInt(3, 40)];
    await check('auto', { heads: 8, kvHeads: 2, hd: 128, ctxLens, qLens: [1, 1], blockSize }, `block size ${blockSize}`);
    await check('split48', { heads: 8, kvHeads: 2, hd: 64, ctxLens, qLens: [1, 1], blockSize }, `block size ${blockSize}`);
  }
});

test('decode attention with rows over 8 (GQA 4 x 3 tokens) falls back and stays correct', async () => {
  const b = new CudaBackend({ poisonAllocations: true, decodeAttention: true });
  try {
    const { args, ref } = setup(b, { heads: 8, kvHeads: 2, hd: 128, ctxLens: [randInt(50, 200), 7], qLens: [3, 1] });
    b.pagedAttention(args);
    const e = relErr(await b.download(args.out), ref);
    assert.ok(e <= 1e-2, `fallback: relative error ${e.toExponential(2)}`);
    assert.ok(!usedDecodeKernel(b), 'decode_attention.cu must not serve 12 rows');
  } finally {
    await b.close();
  }
});

for (const variant of ['auto', 'split48kernel']) {
  test(`decode attention replayed from a CUDA graph (context bound from the shape) equals eager and float64 (${variant})`, async () => {
    const b = variants[variant];
    const ctxLens = [randInt(300, 900), randInt(1, 40), randInt(1000, 1400)];
    const { args, ref } = setup(b, { heads: 8, kvHeads: 2, hd: 128, ctxLens, qLens: [1, 1, 1] });
    // As decode graphs do: maxContextLen = block-table stride x block size, a bound.
    const bound = { ...args, meta: { ...args.meta, maxContextLen: args.meta.maxBlocksPerSeq * 16 + 512 } };
    b.pagedAttention(bound);
    const eager = await b.download(bound.out);
    b.write(bound.out, new Float32Array(eager.length).fill(Number.NaN));
    const graph = b.captureGraph(() => b.pagedAttention(bound));
    try {
      for (let rep = 0; rep < 3; rep++) {
        graph.replay();
        const replayed = await b.download(bound.out);
        assert.deepEqual(replayed, eager, `graph replay ${rep} differs from the eager launch`);
        const e = relErr(replayed, ref);
        assert.ok(e <= 1e-2, `graph replay: relative error ${e.toExponential(2)}`);
        b.write(bound.out, new Float32Array(eager.length).fill(Number.NaN));
      }
    } finally {
      graph.dispose();
    }
  });
}
