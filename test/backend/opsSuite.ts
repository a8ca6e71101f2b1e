// The backend op suite: every op against a float64 re-computation on fresh random inputs,
// ‖out − ref‖/‖ref‖ under a bound set by the backend's activation dtype. Parametrised by a
// backend factory so every backend runs the same suite (ops.test.ts: CPU; a *.cuda.test.ts
// can call runOpSuite with the CUDA backend).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, DeviceTensor } from '../../src/backend/backend.js';
import type { WeightDType } from '../../src/backend/hostTensor.js';
import {
  attendRef, erf64, fromBf16Bits, fromF16Bits, matmulRef, pagedAttentionRef, relErr, rmsNormRef, ropeRef, shuffledBlockTables, toBf16Bits, toF16Bits,
} from './opsReference.js';
import { activation, int32s } from './deviceData.js';

export type BackendFactory = () => Backend | Promise<Backend>;

function rand(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
  return a;
}

function randInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/** A weight as a checkpoint stores it, and the exact values it holds once decoded. */
function hostWeight(values: Float32Array, shape: number[], dtype: WeightDType) {
  let bytes: Uint8Array;
  let exact: Float64Array;
  if (dtype === 'f32') {
    bytes = new Uint8Array(values.buffer.slice(0));
    exact = Float64Array.from(values);
  } else {
    const bits = Uint16Array.from(values, (v) => (dtype === 'bf16' ? toBf16Bits(v) : toF16Bits(v)));
    bytes = new Uint8Array(bits.buffer);
    exact = Float64Array.from(bits, (b) => (dtype === 'bf16' ? fromBf16Bits(b) : fromF16Bits(b)));
  }
  return { tensor: { name: 'w', dtype, shape, data: bytes }, exact };
}

export function runOpSuite(label: string, factory: BackendFactory): void {
  describe(`backend ops: ${label}`, () => {
    let b: Backend;
    let tol: number;
    before(async () => {
      b = await factory();
      tol = b.activationDType === 'f32' ? 2e-6 : 2e-2;
    });
    after(async () => {
      await b.close();
    });

    const act = (data: Float32Array, shape: number[]): DeviceTensor => activation(b, data, shape);
    const ints = (data: number[] | Int32Array): DeviceTensor => int32s(b, data);
    const f32w = (data: Float32Array, shape: number[]) => b.uploadWeight(hostWeight(data, shape, 'f32').tensor);
    const read = async (t: DeviceTensor) => Float64Array.from(await b.download(t));
    const close = (out: ArrayLike<number>, ref: ArrayLike<number>, what: string, bound = tol) => {
      const e = relErr(out, ref);
      assert.ok(e <= bound, `${what}: relative error ${e.toExponential(2)} > ${bound}`);
    };

    test('memory: write at an offset, views share their base, i32 round trip', async () => {
      const t = b.alloc([4, 3], 'f32');
      b.write(t, new Float32Array(12));
      b.write(t, Float32Array.of(1, 2, 3), 6);
      const row2 = b.view(t, [1, 3], 6);
      assert.deepEqual(Array.from(await b.download(row2)), [1, 2, 3]);
      b.write(row2, Float32Array.of(7, 8, 9));
      assert.deepEqual(Array.from(await b.download(t)).slice(3, 9), [0, 0, 0, 7, 8, 9]);
      const ids = b.alloc([3], 'i32');
      b.write(ids, Int32Array.of(-1, 5, 2 ** 30));
      assert.deepEqual(Array.from(await b.download(ids)), [-1, 5, 2 ** 30]);
      assert.throws(() => b.view(t, [2, 3], 9));
      b.free(row2);
      b.free(t);
      b.free(ids);
    });

    for (const dtype of ['f32', 'bf16', 'f16'] as const) {
      test(`matmul with ${dtype} weights (prefill and decode shapes)`, async () => {
        for (const [m, n, k] of [[randInt(17, 40), randInt(33, 70), randInt(50, 130)], [1, 67, 129], [3, 5, 7]]) {
          const x = rand(m * k);
          const { tensor, exact } = hostWeight(rand(n * k), [n, k], dtype);
          const w = b.uploadWeight(tensor);
          const out = b.alloc([m, n], 'f32');
          b.matmul(out, act(x, [m, k]), w);
          close(await read(out), matmulRef(x, exact, m, n, k), `matmul ${m}x${n}x${k}`);
        }
      });
    }

    test('matmul large enough to use every thread', async () => {
      const [m, n, k] = [64, 258, 96];
      const x = rand(m * k);
      const w = rand(n * k);
      const out = b.alloc([m, n], 'f32');
      b.matmul(out, act(x, [m, k]), f32w(w, [n, k]));
      close(await read(out), matmulRef(x, w, m, n, k), 'matmul');
    });

    test('matmul and embedding with weight rows of 4 KiB (a layout backends may pad)', async () => {
      const [m, n, k] = [3, 9, 1024];
      const x = rand(m * k);
      const w = rand(n * k);
      const wt = f32w(w, [n, k]);
      const out = b.alloc([m, n], 'f32');
      b.matmul(out, act(x, [m, k]), wt);
      close(await read(out), matmulRef(x, w, m, n, k), 'matmul k=1024');
      const ids = [8, 0, 3];
      const emb = b.alloc([3, k], b.activationDType);
      b.embedding(emb, wt, ints(ids));
      close(await read(emb), ids.flatMap((id) => Array.from(w.subarray(id * k, (id + 1) * k))), 'embedding d=1024');
      close(await read(wt), w, 'download of the weight');
    });

    test('embedding gather', async () => {
      const [vocab, d, n] = [randInt(20, 50), randInt(8, 40), randInt(1, 30)];
      const table = rand(vocab * d);
      const ids = Array.from({ length: n }, () => randInt(0, vocab - 1));
      const out = b.alloc([n, d], b.activationDType);
      b.embedding(out, f32w(table, [vocab, d]), ints(ids));
      const ref = ids.flatMap((id) => Array.from(table.subarray(id * d, (id + 1) * d)));
      close(await read(out), ref, 'embedding');
    });

    // d: ragged (a scalar path on CUDA), whole 8-element chunks (its register-cached path), and
    // the model's width (several chunks a thread).
    for (const d of [8 * randInt(2, 10) + randInt(1, 7), 8 * randInt(2, 40), 5120]) test(`add, rmsNorm and the fused residual add + rmsNorm (d ${d})`, async () => {
      const [n, eps] = [randInt(1, 20), 1e-5];
      const x = rand(n * d, 3);
      const y = rand(n * d, 3);
      const w = rand(d);
      const out = b.alloc([n, d], b.activationDType);
      b.add(out, act(x, [n, d]), act(y, [n, d]));
      close(await read(out), x.map((v, i) => v + y[i]), 'add');
      b.rmsNorm(out, act(x, [n, d]), f32w(w, [d]), eps);
      close(await read(out), rmsNormRef(x, w, n, d, eps), 'rmsNorm');
      const residual = act(x, [n, d]);
      b.addRmsNorm(out, residual, act(y, [n, d]), f32w(w, [d]), eps);
      const sum = Float64Array.from(x, (v, i) => v + y[i]);
      close(await read(residual), sum, 'addRmsNorm residual');
      close(await read(out), rmsNormRef(sum, w, n, d, eps), 'addRmsNorm out');
    });

    test('text RoPE (rotate-half, GQA widths, large positions)', async () => {
      const [n, heads, kvHeads, hd, theta] = [randInt(1, 12), 6, 2, 2 * randInt(2, 16), 1e6];
      const positions = Array.from({ length: n }, () => randInt(0, 5000));
      const q = rand(n * heads * hd);
      const k = rand(n * kvHeads * hd);
      const qt = act(q, [n, heads * hd]);
      const kt = act(k, [n, kvHeads * hd]);
      b.ropeText(qt, kt, ints(positions), heads, kvHeads, hd, theta);
      const angle = (r: number, i: number) => positions[r] * theta ** ((-2 * i) / hd);
      // Angles of positions ~5000 carry f32 rounding (as in transformers): a looser bound.
      close(await read(qt), ropeRef(q, n, heads, hd, angle), 'rope q', Math.max(tol, 2e-4));
      close(await read(kt), ropeRef(k, n, kvHeads, hd, angle), 'rope k', Math.max(tol, 2e-4));
    });

    test('vision 2D RoPE', async () => {
      const [rowsN, colsN, heads, hd, theta] = [randInt(1, 5), randInt(1, 6), 3, 4 * randInt(2, 8), 1e4];
      const n = rowsN * colsN;
      const pr = Array.from({ length: n }, (_, p) => Math.floor(p / colsN));
      const pc = Array.from({ length: n }, (_, p) => p % colsN);
      const q = rand(n * heads * hd);
      const k = rand(n * heads * hd);
      const qt = act(q, [n, heads * hd]);
      const kt = act(k, [n, heads * hd]);
      b.ropeVision(qt, kt, ints(pr), ints(pc), heads, hd, theta);
      const quarter = hd / 4;
      const f = (j: number) => theta ** (-j / (hd / 2));
      const angle = (r: number, i: number) => (i < quarter ? pr[r] * f(2 * i) : pc[r] * f(2 * (i - quarter) + 1));
      close(await read(qt), ropeRef(q, n, heads, hd, angle), 'vision rope q', Math.max(tol, 1e-5));
      close(await read(kt), ropeRef(k, n, heads, hd, angle), 'vision rope k', Math.max(tol, 1e-5));
    });

    test('SiLU-and-mul and exact GELU', async () => {
      const [n, d] = [randInt(1, 9), randInt(3, 50)];
      const x = rand(n * 2 * d, 6);
      const out = b.alloc([n, d], b.activationDType);
      b.siluAndMul(out, act(x, [n, 2 * d]));
      const ref = new Float64Array(n * d);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < d; c++) {
          const g = x[r * 2 * d + c];
          ref[r * d + c] = (g / (1 + Math.exp(-g))) * x[r * 2 * d + d + c];
        }
      }
      close(await read(out), ref, 'siluAndMul');
      const y = rand(n * d, 6);
      b.gelu(out, act(y, [n, d]));
      close(await read(out), Float64Array.from(y, (v) => 0.5 * v * (1 + erf64(v / Math.SQRT2))), 'gelu');
    });

    test('KV write and paged attention: prefill chunk over earlier context, decode, GQA', async () => {
      const [heads, kvHeads, hd, blockSize, numBlocks] = [4, 2, 8 * randInt(1, 3), 4, 24];
      const kvW = kvHeads * hd;
      const kCache = b.alloc([numBlocks, blockSize, kvHeads, hd], b.activationDType);
      const vCache = b.alloc([numBlocks, blockSize, kvHeads, hd], b.activationDType);
      const ctxLens = [randInt(10, 20), randInt(1, 9), randInt(5, 14)];
      const qLens = [randInt(2, 6), 1, ctxLens[2]]; // chunk with earlier context, decode, fresh prefill
      const maxBlocks = 5;
      const tables = shuffledBlockTables(ctxLens, blockSize, numBlocks, maxBlocks);
      const slotOf = (s: number, t: number) => tables[s * maxBlocks + Math.floor(t / blockSize)] * blockSize + (t % blockSize);
      // Full per-sequence K/V; first write the earlier context, then this step's tokens.
      const allK = ctxLens.map((len) => rand(len * kvW));
      const allV = ctxLens.map((len) => rand(len * kvW));
      const writeRange = (s: number, from: number, to: number) => {
        const slots = Array.from({ length: to - from }, (_, i) => slotOf(s, from + i));
        b.writeKv(kCache, vCache, act(allK[s].slice(from * kvW, to * kvW), [to - from, kvW]), act(allV[s].slice(from * kvW, to * kvW), [to - from, kvW]), ints(slots));
      };
      ctxLens.forEach((len, s) => {
        if (len - qLens[s] > 0) writeRange(s, 0, len - qLens[s]);
      });
      const numTok = qLens.reduce((a, c) => a + c, 0);
      const newK: number[] = [];
      const newV: number[] = [];
      const slots: number[] = [];
      ctxLens.forEach((len, s) => {
        for (let t = len - qLens[s]; t < len; t++) {
          newK.push(...allK[s].subarray(t * kvW, (t + 1) * kvW));
          newV.push(...allV[s].subarray(t * kvW, (t + 1) * kvW));
          slots.push(slotOf(s, t));
        }
      });
      slots.push(-1); // a padding row is skipped
      newK.push(...new Array(kvW).fill(9));
      newV.push(...new Array(kvW).fill(9));
      b.writeKv(kCache, vCache, act(Float32Array.from(newK), [numTok + 1, kvW]), act(Float32Array.from(newV), [numTok + 1, kvW]), ints(slots));
      const q = rand(numTok * heads * hd);
      const out = b.alloc([numTok, heads * hd], b.activationDType);
      const starts = [0];
      qLens.forEach((l) => starts.push(starts[starts.length - 1] + l));
      const scale = 1 / Math.sqrt(hd);
      const blockTables = b.alloc([ctxLens.length, maxBlocks], 'i32');
      b.write(blockTables, tables);
      b.pagedAttention({
        out, q: act(q, [numTok, heads * hd]), kCache, vCache, numHeads: heads, numKvHeads: kvHeads, headDim: hd, scale,
        meta: { numSeqs: 3, queryStarts: ints(starts), contextLens: ints(ctxLens), blockTables, maxBlocksPerSeq: maxBlocks, maxQueryLen: Math.max(...qLens), maxContextLen: Math.max(...ctxLens) },
      });
      const ref = pagedAttentionRef(q, allK, allV, ctxLens, qLens, { heads, kvHeads, hd, scale });
      close(await read(out), ref, 'pagedAttention', Math.max(tol, 1e-5));
    });

    test('vision attention is block-diagonal across images', async () => {
      const [heads, hd] = [3, 8];
      const sizes = [randInt(2, 9), randInt(2, 9)];
      const n = sizes[0] + sizes[1];
      const w = heads * hd;
      const [q, k, v] = [rand(n * w), rand(n * w), rand(n * w)];
      const out = b.alloc([n, w], b.activationDType);
      b.visionAttention({
        out, q: act(q, [n, w]), k: act(k, [n, w]), v: act(v, [n, w]), numHeads: heads, headDim: hd, scale: 0.3,
        spans: { patchStarts: ints([0, sizes[0], n]), gridRows: [1, 1], gridCols: sizes, maxPatches: Math.max(...sizes) },
      });
      const ref = new Float64Array(n * w);
      for (let i = 0; i < n; i++) {
        const [lo, hi] = i < sizes[0] ? [0, sizes[0]] : [sizes[0], n];
        for (let h = 0; h < heads; h++) {
          const keys = Array.from({ length: hi - lo }, (_, t) => (lo + t) * w + h * hd);
          ref.set(attendRef(q, i * w + h * hd, keys, k, v, hd, 0.3), i * w + h * hd);
        }
      }
      close(await read(out), ref, 'visionAttention', Math.max(tol, 1e-5));
    });

    test('patchify: 1-3 images of random sizes, f32 pixels to patch rows', async () => {
      const [patch, channels] = [randInt(2, 5), randInt(1, 3)];
      const grids = Array.from({ length: randInt(1, 3) }, () => [randInt(1, 6), randInt(1, 6)]);
      const width = channels * patch * patch;
      const starts = [0];
      for (const [h, w] of grids) starts.push(starts[starts.length - 1] + h * w);
      const n = starts[grids.length];
      const images = grids.map(([h, w]) => rand(channels * h * patch * w * patch, 3));
      const pixels = b.alloc([n * width], 'f32');
      images.forEach((img, i) => b.write(pixels, img, starts[i] * width));
      const out = b.alloc([n, width], b.activationDType);
      b.write(out, new Float32Array(n * width).fill(NaN)); // an unwritten element fails
      const spans = { patchStarts: ints(starts), gridRows: grids.map((g) => g[0]), gridCols: grids.map((g) => g[1]), maxPatches: Math.max(...grids.map(([h, w]) => h * w)) };
      b.patchify(out, pixels, spans, patch);
      const ref: number[] = [];
      grids.forEach(([h, w], i) => {
        const [rowsPx, colsPx] = [h * patch, w * patch];
        for (let r = 0; r < h; r++) {
          for (let c = 0; c < w; c++) {
            for (let ch = 0; ch < channels; ch++) {
              for (let y = 0; y < patch; y++) {
                for (let x = 0; x < patch; x++) ref.push(images[i][ch * rowsPx * colsPx + (r * patch + y) * colsPx + c * patch + x]);
              }
            }
          }
        }
      });
      // Only bf16 rounding on the way (at most 2^-9 relative per element).
      close(await read(out), ref, `patchify ${grids.map((g) => g.join('x')).join(', ')} grids of ${channels}x${patch}x${patch}`, Math.min(tol, 4e-3));
      assert.throws(() => b.patchify(b.view(out, [n - 1, width]), pixels, spans, patch), /patchify/);
      assert.throws(() => b.patchify(out, b.view(pixels, [n * width - 1]), spans, patch), /patchify/);
    });

    test('channel-major patch merge over two images', async () => {
      const grids = [[2 * randInt(1, 3), 2 * randInt(1, 3)], [2, 4]];
      const c = randInt(2, 7);
      const counts = grids.map(([h, w]) => h * w);
      const n = counts[0] + counts[1];
      const x = rand(n * c);
      const out = b.alloc([n / 4, 4 * c], b.activationDType);
      b.patchMerge(out, act(x, [n, c]), { patchStarts: ints([0, counts[0], n]), gridRows: grids.map((g) => g[0]), gridCols: grids.map((g) => g[1]), maxPatches: Math.max(...counts) }, 2);
      const ref: number[] = [];
      let base = 0;
      for (const [h, w] of grids) {
        for (let bi = 0; bi < h / 2; bi++) {
          for (let bj = 0; bj < w / 2; bj++) {
            const v = new Array(4 * c);
            for (let ch = 0; ch < c; ch++) {
              for (let di = 0; di < 2; di++) for (let dj = 0; dj < 2; dj++) v[ch * 4 + di * 2 + dj] = x[(base + (2 * bi + di) * w + 2 * bj + dj) * c + ch];
            }
            ref.push(...v);
          }
        }
        base += h * w;
      }
      close(await read(out), ref, 'patchMerge');
    });

    test('gather and scatter rows', async () => {
      const [n, d] = [randInt(5, 15), randInt(2, 9)];
      const src = rand(n * d);
      const rows = [n - 1, 0, 2];
      const out = b.alloc([3, d], b.activationDType);
      b.gatherRows(out, act(src, [n, d]), ints(rows));
      close(await read(out), rows.flatMap((r) => Array.from(src.subarray(r * d, (r + 1) * d))), 'gatherRows');
      const dst = act(src, [n, d]);
      const vals = rand(3 * d);
      b.scatterRows(dst, act(vals, [3, d]), ints(rows));
      const ref = Float64Array.from(src);
      rows.forEach((r, i) => ref.set(vals.subarray(i * d, (i + 1) * d), r * d));
      close(await read(dst), ref, 'scatterRows');
    });

    test('sampling: greedy after bias, bans and penalties; logprobs of the raw distribution', async () => {
      const vocab = 50;
      const raw = rand(2 * vocab, 4);
      const logits = b.alloc([2, vocab], 'f32');
      b.write(logits, raw);
      const row0 = Array.from(raw.subarray(0, vocab));
      const order = row0.map((v, i) => [v, i]).sort((a, c) => c[0] - a[0]).map((p) => p[1]);
      const base = {
        temperature: 0, topK: 0, topP: 1, minP: 0, seed: 1, step: 0, presencePenalty: 0, frequencyPenalty: 0,
        repetitionPenalty: 1, promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 3,
      };
      const [plain, banned, biased] = await b.sample(logits, [
        { row: 0, params: base },
        { row: 0, params: { ...base, bannedTokenIds: [order[0]] } },
        { row: 0, params: { ...base, logitBias: new Map([[order[vocab - 1], 100]]) } },
      ]);
      assert.equal(plain.tokenId, order[0]);
      assert.equal(banned.tokenId, order[1]);
      assert.equal(biased.tokenId, order[vocab - 1]);
      const lse = Math.log(row0.reduce((a, v) => a + Math.exp(v), 0));
      // Reported logprobs are of the raw logits, whatever the bias did.
      assert.ok(Math.abs((biased.logprobs?.logprob ?? 0) - (row0[order[vocab - 1]] - lse)) < 1e-5);
      assert.equal(biased.logprobs?.rank, vocab);
      assert.deepEqual(plain.logprobs?.top.map((t) => t[0]), order.slice(0, 3));
      // Repetition penalty on a positive top logit divides it: make it lose to the runner-up.
      const top = order[0];
      const pen = row0[top] > 0 && row0[order[1]] > 0 ? (row0[top] / row0[order[1]]) * 1.01 : 0;
      if (pen > 1) {
        const [rep] = await b.sample(logits, [{ row: 0, params: { ...base, repetitionPenalty: pen, promptTokenIds: [top] } }]);
        assert.equal(rep.tokenId, order[1]);
      }
      const [freq] = await b.sample(logits, [{ row: 0, params: { ...base, frequencyPenalty: 100, outputTokenIds: [top] } }]);
      assert.equal(freq.tokenId, order[1]);
      const [scored] = await b.score(logits, [{ row: 0, targetTokenId: order[4], numLogprobs: 2 }]);
      assert.equal(scored.rank, 5);
      assert.ok(Math.abs(scored.logprob - (row0[order[4]] - lse)) < 1e-5);
    });

    test('seeded sampling is reproducible per (seed, step) and follows top-k', async () => {
      const vocab = 40;
      const logits = b.alloc([3, vocab], 'f32');
      b.write(logits, rand(3 * vocab, 2));
      const p = {
        temperature: 1, topK: 5, topP: 1, minP: 0, seed: 12345, step: 7, presencePenalty: 0, frequencyPenalty: 0,
        repetitionPenalty: 1, promptTokenIds: [], outputTokenIds: [], logitBias: null, bannedTokenIds: [], numLogprobs: 0,
      };
      const first = await b.sample(logits, [{ row: 1, params: p }]);
      const again = await b.sample(logits, [{ row: 0, params: { ...p, seed: 9 } }, { row: 1, params: p }]);
      assert.equal(again[1].tokenId, first[0].tokenId);
      const ranks = new Set<number>();
      for (let step = 0; step < 200; step++) {
        const [s] = await b.sample(logits, [{ row: 2, params: { ...p, step } }]);
        ranks.add(s.logprobs?.rank ?? -1);
      }
      assert.deepEqual([...ranks].sort(), [1, 2, 3, 4, 5]);
    });
  });
}
