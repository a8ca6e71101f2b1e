// FP8 linear weights on the CUDA backend (issue 16), against exact host arithmetic:
//   - device quantization (quantizeLinear, uploadLinear quantize) gives the codes and scales of
//     the host's quantizeRowsFp8 bit for bit (zero rows, subnormal codes, saturation included);
//   - FP8 checkpoint upload + dequantize round-trips;
//   - linear through the skinny kernels (tensor cores on per-token FP8 x; the GEMV on bf16 x)
//     and through per-token quantization + cuBLASLt FP8 GEMM, each against float64 sums of the
//     exact products, within the bound of its accumulation (see checkClose); row views; graph
//     capture and replay;
//   - the producers' fused quantization (rmsNorm, addRmsNorm, siluAndMul with `feeds`): the
//     same bits as without it, and never used once another producer has overwritten it.
// Outputs are poisoned (NaN) before each op, so an unwritten element fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import type { DeviceTensor, LinearWeight } from '../../../src/backend/backend.js';
import { CudaFp8Linear } from '../../../src/backend/cuda/fp8Linear.js';
import { E4M3_VALUES, quantizeRowsFp8 } from '../../../src/backend/fp8E4m3.js';
import { fromBf16Bits, toBf16Bits } from '../opsReference.js';

let mma: CudaBackend;
let gemv: CudaBackend;
let gemm: CudaBackend;
/** The skinny kernel split into many k pieces (a CTA each, combined by the tile's last CTA), on
 *  the tensor cores at m = 1 too (mma sends an unquantized single row to the bf16-x GEMV). */
let split: CudaBackend;
before(() => {
  split = new CudaBackend({ poisonAllocations: true, fp8GemvMaxRows: 16, fp8SplitKBytes: 128, fp8Bf16GemvMaxRows: 0 });
  mma = new CudaBackend({ poisonAllocations: true, fp8GemvMaxRows: 16 });
  gemv = new CudaBackend({ poisonAllocations: true, fp8GemvMaxRows: 16, fp8SkinnyKernel: 'gemv' });
  gemm = new CudaBackend({ poisonAllocations: true, fp8GemvMaxRows: 0 });
});
after(async () => {
  await mma.close();
  await gemv.close();
  await gemm.close();
  await split.close();
});

const bf16 = (v: number): number => fromBf16Bits(toBf16Bits(v));
/** Random bf16 values in (-amp, amp), rounded in place through one shared view (the per-value
 *  helpers allocate, which costs ~2 µs a value: too slow for the 18M-element weights). */
function randBf16(n: number, amp = 1): Float32Array {
  const out = new Float32Array(n);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    out[i] = (Math.random() * 2 - 1) * amp;
    const b = u[i];
    u[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  }
  return out;
}
const hostDense = (values: Float32Array, rows: number, cols: number) => ({ name: 'w', dtype: 'f32' as const, shape: [rows, cols], data: new Uint8Array(values.buffer) });

async function readBack(b: CudaBackend, w: LinearWeight): Promise<{ codes: Uint8Array; scales: Float32Array }> {
  assert.ok(w instanceof CudaFp8Linear);
  const [rows, cols] = w.shape;
  const c = (await b.download(w.codes)) as Int32Array;
  const s = (await b.download(w.scales)) as Int32Array;
  return { codes: new Uint8Array(c.buffer, 0, rows * cols), scales: new Float32Array(s.buffer, 0, rows) };
}

/** A dense matrix with the awkward rows: all zeros, one huge value over tiny ones (subnormal
 *  codes), large magnitudes, and plain random rows. */
function awkwardMatrix(rows: number, cols: number): Float32Array {
  const v = randBf16(rows * cols);
  v.fill(0, 0, cols); // row 0: zeros -> scale 1
  for (let c = 0; c < cols; c++) v[cols + c] = bf16((Math.random() - 0.5) * 1e-3); // row 1: tiny...
  v[cols + 5] = 1000; // ... beside one large value
  for (let c = 0; c < cols; c++) v[2 * cols + c] = bf16((Math.random() - 0.5) * 3e4); // row 2: large
  return v;
}

/** bf16 values spread over 2^-40 .. 2^12 (random sign, exponent and mantissa): every code of
 *  E4M3, subnormal and zero codes, and quotients near every rounding midpoint. */
function wideMatrix(rows: number, cols: number): Float32Array {
  const v = randBf16(rows * cols);
  for (let i = 0; i < v.length; i++) v[i] = bf16(v[i] * 2 ** Math.floor(Math.random() * 52 - 40));
  return v;
}

for (const [what, rows, cols, make] of [
  ['awkward rows', 37, 272, awkwardMatrix],
  ['wide-range rows (cached and two-pass kernels)', 64, 40960, wideMatrix],
] as const)
test(`quantizeLinear and uploadLinear(quantize fp8) give the host quantization bit for bit: ${what}`, async () => {
  const b = gemv;
  const values = make(rows, cols);
  const host = quantizeRowsFp8(values, rows, cols);
  const dense = b.uploadWeight(hostDense(values, rows, cols));
  for (const w of [b.quantizeLinear(dense), b.uploadLinear(hostDense(values, rows, cols), { quantize: 'fp8' })]) {
    const got = await readBack(b, w);
    assert.deepEqual(Array.from(got.scales), Array.from(host.scales), 'scales');
    let diff = 0;
    for (let i = 0; i < host.codes.length; i++) if (got.codes[i] !== host.codes[i]) diff++;
    assert.equal(diff, 0, `${diff} of ${host.codes.length} codes differ`);
    assert.equal(w.bytes, rows * cols + 4 * rows);
    assert.equal(w.format, 'fp8');
    b.freeLinear(w);
  }
  b.free(dense);
});

test('an FP8 checkpoint weight uploads as it is and dequantizes to e4m3(code) * scale', async () => {
  const b = gemv;
  const [rows, cols] = [19, 64];
  const codes = Uint8Array.from({ length: rows * cols }, () => {
    const c = Math.floor(Math.random() * 256);
    return (c & 0x7f) === 0x7f ? c - 1 : c; // no NaN codes
  });
  const scales = Float32Array.from({ length: rows }, () => Math.fround(Math.random() * 0.01 + 1e-4));
  const w = b.uploadLinear({ data: { name: 'w', dtype: 'f8_e4m3', shape: [rows, cols], data: codes }, scales });
  const got = await readBack(b, w);
  assert.deepEqual(got.codes, codes);
  assert.deepEqual(got.scales, scales);
  const out = b.alloc([rows, cols], 'bf16');
  b.fp8.dequantize(out as never, w as CudaFp8Linear);
  const deq = (await b.download(out)) as Float32Array;
  for (let i = 0; i < codes.length; i++) {
    const want = bf16(Math.fround(E4M3_VALUES[codes[i]] * scales[Math.floor(i / cols)]));
    assert.equal(deq[i], want, `element ${i}`);
  }
  assert.throws(() => b.uploadLinear({ data: { name: 'w', dtype: 'f8_e4m3', shape: [rows, cols], data: codes }, scales: scales.subarray(1) }), /one per row/);
  b.free(out);
  b.freeLinear(w);
});

/** Exact products summed in float64, and the sum of their magnitudes (for the bound). */
function exactLinear(x: Float32Array, xScale: Float32Array | null, codes: Uint8Array, scales: Float32Array, m: number, n: number, k: number) {
  const ref = new Float64Array(m * n);
  const mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      let a = 0;
      for (let c = 0; c < k; c++) {
        const p = x[i * k + c] * E4M3_VALUES[codes[r * k + c]];
        s += p;
        a += Math.abs(p);
      }
      const f = scales[r] * (xScale ? xScale[i] : 1);
      ref[i * n + r] = s * f;
      mag[i * n + r] = a * f;
    }
  }
  return { ref, mag };
}

/**
 * |out - ref| <= rel * mag + |ref| * 2^-8 (bf16 out: half an ulp, 2^-9 relative, doubled for
 * the scale product) + 1e-30, with mag = sum of |products| * scales:
 *   - GEMV: products exact in f32 (4 + 8 significant bits), (k - 1) f32 additions in any order:
 *     rel = k * 2^-24;
 *   - tensor cores (cuBLASLt FP8, the skinny MMA kernel) on Hopper: they accumulate with fewer
 *     than f32's bits between promotions to f32 (about 14 bits kept; DeepSeek-V3 report,
 *     section 3.3.2): rel = 2^-12. (The skinny kernel promotes every 64 products.)
 */
function checkClose(out: ArrayLike<number>, ref: Float64Array, mag: Float64Array, rel: number, bf16Out: boolean, what: string): void {
  for (let i = 0; i < ref.length; i++) {
    const tol = rel * mag[i] + (bf16Out ? Math.abs(ref[i]) * 2 ** -8 : Math.abs(ref[i]) * 2 ** -23) + 1e-30;
    const err = Math.abs(out[i] - ref[i]);
    if (!(err <= tol)) assert.fail(`${what}: element ${i}: ${out[i]} vs ${ref[i]} (|err| ${err.toExponential(2)} > ${tol.toExponential(2)})`);
  }
}

for (const [label, backend, ms] of [
  ['the skinny FP8 GEMM on tensor cores', () => mma, [1, 2, 3, 5, 8, 9, 13, 16]],
  ['the skinny FP8 GEMM split-K (pieces of 128 bytes: up to 16 splits)', () => split, [1, 6, 16]],
  ['the FP8 GEMV (bf16 x)', () => gemv, [1, 2, 3, 5, 8, 13, 16]],
  ['per-token quantization + cuBLASLt FP8 GEMM', () => gemm, [3, 17, 64, 200]],
] as const) {
  test(`linear with FP8 weights through ${label}: bf16 and f32 out, against exact sums`, async (t) => {
    const b = backend();
    const viaGemm = b === gemm;
    assert.equal(b.fp8.quantizesActivations(ms[ms.length - 1]), b !== gemv, 'which kernel runs');
    for (const m of ms) {
      // m = 1 on an input no producer quantized: the bf16-x GEMV (bf16GemvMaxRows).
      const quantX = b.fp8.quantizesActivations(m);
      assert.equal(quantX, b !== gemv && (m > 1 || b !== mma), `which kernel runs at m ${m}`);
      for (const big of [false, true]) {
        // big: k past one pass of the CTA (256 threads x UNROLL 4 chunks of 16) and a ragged n;
        // small: n a multiple of 8 (cuBLASLt's FP8 alignment) or not (its fallback).
        const n = big ? 1000 + Math.floor(Math.random() * 30) : 8 * (5 + Math.floor(Math.random() * 40)) + (m % 2);
        const k = big ? 16 * (1100 + Math.floor(Math.random() * 90)) : 16 * (3 + Math.floor(Math.random() * 40));
        if (viaGemm && big && m > 17) continue; // the host reference's cost
        const wv = randBf16(n * k, 0.05);
        const q = quantizeRowsFp8(wv, n, k);
        const w = b.uploadLinear({ data: { name: 'w', dtype: 'f8_e4m3', shape: [n, k], data: q.codes }, scales: q.scales });
        const x = randBf16(m * k, 3);
        const xt = b.alloc([m, k], 'bf16');
        b.write(xt, x);
        const xq = quantX ? quantizeRowsFp8(x, m, k) : null;
        const xv = x;
        if (xq) for (let i = 0; i < xv.length; i++) xv[i] = E4M3_VALUES[xq.codes[i]]; // x was written: reuse its array
        const { ref, mag } = exactLinear(xv, xq ? xq.scales : null, q.codes, q.scales, m, n, k);
        const rel = quantX ? 2 ** -12 : k * 2 ** -24;
        for (const outType of ['f32', 'bf16'] as const) {
          const o = b.alloc([m, n], outType);
          b.linear(o, xt, w);
          checkClose(await b.download(o), ref, mag, rel, outType === 'bf16', `${label} ${m}x${n}x${k} -> ${outType}`);
          b.free(o);
        }
        b.free(xt);
        b.freeLinear(w);
      }
    }
    if (viaGemm) t.diagnostic(`routes: ${JSON.stringify(Object.fromEntries(b.fp8.routes))}`);
  });
}

test('the skinny kernel gives the same bits whether it reads its first weights before its launch wait or after', async () => {
  const early = new CudaBackend({ poisonAllocations: true, fp8GemvMaxRows: 16, fp8Bf16GemvMaxRows: 0 });
  const late = new CudaBackend({ poisonAllocations: true, fp8GemvMaxRows: 16, fp8Bf16GemvMaxRows: 0, fp8WeightPreload: false });
  try {
    for (const [m, n, k] of [[1, 200, 4096], [5, 72, 20000], [16, 520, 1024]] as const) {
      const wv = randBf16(n * k, 0.05);
      const x = randBf16(m * k, 3);
      const outs: number[][] = [];
      for (const b of [early, late]) {
        const w = b.uploadLinear(hostDense(wv, n, k), { quantize: 'fp8' });
        const xt = b.alloc([m, k], 'bf16');
        b.write(xt, x);
        const o = b.alloc([m, n], 'f32');
        await b.synchronize(); // the weight's quantization has finished: preload allowed
        assert.equal(b.ctx.weightsSettled, b.ctx.programmaticLaunch);
        b.linear(o, xt, w);
        outs.push(Array.from(await b.download(o)));
        for (const t of [xt, o]) b.free(t);
        b.freeLinear(w);
      }
      assert.deepEqual(outs[0], outs[1], `${m}x${n}x${k}`);
    }
  } finally {
    await early.close();
    await late.close();
  }
});

test('linearRows views rows of an FP8 weight (wq/wk/wv of a fused wqkv)', async () => {
  for (const b of [mma, gemv, gemm]) {
    const [n, k, m] = [96, 128, 20];
    const wv = randBf16(n * k);
    const w = b.uploadLinear(hostDense(wv, n, k), { quantize: 'fp8' });
    const x = b.alloc([m, k], 'bf16');
    b.write(x, randBf16(m * k));
    const whole = b.alloc([m, n], 'f32');
    b.linear(whole, x, w);
    const all = (await b.download(whole)) as Float32Array;
    const view = b.linearRows(w, 24, 40);
    assert.deepEqual(view.shape, [40, k]);
    assert.equal(view.bytes, 40 * k + 4 * 40);
    const part = b.alloc([m, 40], 'f32');
    b.linear(part, x, view);
    const got = (await b.download(part)) as Float32Array;
    for (let i = 0; i < m; i++) for (let r = 0; r < 40; r++) assert.equal(got[i * 40 + r], all[i * n + 24 + r], `row ${i}, column ${r}`);
    b.freeLinear(view); // a no-op: the view owns nothing
    b.linear(part, x, view);
    assert.throws(() => b.linearRows(w, 90, 10), /outside/);
    for (const t of [x, whole, part]) b.free(t);
    b.freeLinear(w);
  }
});

test('FP8 linears record into a CUDA graph and replay on new inputs', async () => {
  for (const [b, m] of [[mma, 1], [mma, 11], [split, 1], [split, 16], [gemv, 4], [gemm, 48]] as const) {
    const [n, k] = [264, 512];
    const w = b.uploadLinear(hostDense(randBf16(n * k), n, k), { quantize: 'fp8' });
    const x = b.alloc([m, k], 'bf16');
    const o = b.alloc([m, n], 'bf16');
    const run = (): void => b.linear(o, x, w);
    b.write(x, randBf16(m * k));
    run(); // first call plans (and, for the GEMM, sizes the scratch buffers) outside capture
    const graph = b.captureGraph(run);
    const fresh = randBf16(m * k);
    b.write(x, fresh);
    run();
    const eager = await b.download(o);
    b.write(o, new Float32Array(m * n).fill(Number.NaN));
    graph.replay();
    const replayed = await b.download(o);
    assert.deepEqual(Array.from(replayed), Array.from(eager), `m ${m}`);
    graph.dispose();
    for (const t of [x, o]) b.free(t);
    b.freeLinear(w);
  }
});

test('rmsNorm, addRmsNorm and siluAndMul quantize for the FP8 linear they feed: the same bits as a separate pass', async () => {
  // m = 1 on `split` (the tensor cores at one row even on an unquantized input: on `mma` that row
  // would take the bf16-x GEMV, another arithmetic than the fused form's).
  for (const [b, m] of [[split, 1], [mma, 7], [mma, 24], [gemm, 40], [gemv, 3]] as const) {
    const [d, n, f] = [320, 72, 256]; // hidden, out rows, the MLP's inner width
    const w1 = b.uploadLinear(hostDense(randBf16(n * d, 0.05), n, d), { quantize: 'fp8' });
    const w2 = b.uploadLinear(hostDense(randBf16(n * f, 0.05), n, f), { quantize: 'fp8' });
    const norm = b.uploadWeight(hostDense(randBf16(d, 2), 1, d));
    const normW = b.view(norm, [d], 0);
    const x = b.alloc([m, d], 'bf16');
    const delta = b.alloc([m, d], 'bf16');
    const gateUp = b.alloc([m, 2 * f], 'bf16');
    const xHost = randBf16(m * d, 4);
    b.write(x, xHost);
    b.write(delta, randBf16(m * d, 4));
    b.write(gateUp, randBf16(m * 2 * f, 3));
    const normed = b.alloc([m, d], 'bf16');
    const act = b.alloc([m, f], 'bf16');
    const y = b.alloc([m, n], 'f32');
    const run = async (produce: () => void, input: DeviceTensor, w: LinearWeight): Promise<number[]> => {
      produce();
      b.linear(y, input, w);
      return [...((await b.download(y)) as Float32Array), ...((await b.download(input)) as Float32Array)];
    };
    const plain = [
      await run(() => b.rmsNorm(normed, x, normW, 1e-5), normed, w1),
      await run(() => b.siluAndMul(act, gateUp), act, w2),
    ];
    const residual = b.alloc([m, d], 'bf16');
    b.write(residual, xHost);
    b.addRmsNorm(normed, residual, delta, normW, 1e-5);
    b.linear(y, normed, w1);
    plain.push([...((await b.download(y)) as Float32Array)]);
    const fused = [
      await run(() => b.rmsNorm(normed, x, normW, 1e-5, w1), normed, w1),
      await run(() => b.siluAndMul(act, gateUp, w2), act, w2),
    ];
    b.write(residual, xHost);
    b.addRmsNorm(normed, residual, delta, normW, 1e-5, w1);
    b.linear(y, normed, w1);
    fused.push([...((await b.download(y)) as Float32Array)]);
    for (let i = 0; i < 3; i++) assert.deepEqual(fused[i], plain[i], `m ${m}: producer ${['rmsNorm', 'siluAndMul', 'addRmsNorm'][i]}`);
    // normed's FP8 form is overwritten by act's: the linear must quantize normed itself again.
    b.rmsNorm(normed, x, normW, 1e-5, w1);
    b.siluAndMul(act, gateUp, w2);
    b.linear(y, normed, w1);
    assert.deepEqual([...((await b.download(y)) as Float32Array)], plain[0].slice(0, m * n), `m ${m}: a stale FP8 form was used`);
    // A producer without `feeds` leaves no FP8 form behind.
    b.rmsNorm(normed, x, normW, 1e-5, w1);
    b.rmsNorm(normed, delta, normW, 1e-5);
    b.linear(y, normed, w1);
    const want = [...((await b.download(y)) as Float32Array)];
    b.write(y, new Float32Array(m * n).fill(Number.NaN));
    b.rmsNorm(normed, delta, normW, 1e-5);
    b.linear(y, normed, w1);
    assert.deepEqual(want, [...((await b.download(y)) as Float32Array)], `m ${m}: the FP8 form outlived a plain rmsNorm`);
    for (const t of [x, delta, gateUp, normed, act, y, residual, norm]) b.free(t);
    b.freeLinear(w1);
    b.freeLinear(w2);
  }
});

test('FP8 linear refuses mismatched shapes and foreign handles', () => {
  const b = gemv;
  const w = b.uploadLinear(hostDense(randBf16(32 * 64), 32, 64), { quantize: 'fp8' });
  const x: DeviceTensor = b.alloc([2, 48], 'bf16');
  const o = b.alloc([2, 32], 'bf16');
  assert.throws(() => b.linear(o, x, w), /does not fit/);
  assert.throws(() => b.uploadLinear(hostDense(randBf16(4 * 40), 4, 40), { quantize: 'fp8' }), /multiple of 16/);
  assert.throws(() => gemm.linear(o, x, { shape: [32, 64], format: 'fp8', bytes: 0 }), /not made by the cuda backend/);
  b.free(x);
  b.free(o);
  b.freeLinear(w);
});
