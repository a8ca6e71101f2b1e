// The one-token FP8 GEMV (fp8Linear.ts, fp8_gemv.cu): each of its shapes (by matrix size and
// row length) against float64 sums of the exact products; the fused passes linearSiluAndMul
// and linearRopeWriteKv give the bits of their unfused ops (linear, then siluAndMul; linear,
// then ropeText and writeKv), on every element they write (caches included) and nowhere else;
// the weight preload changes no bit. Outputs start poisoned (NaN) or zeroed, and every
// compared element must be a number, so an unwritten one fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import type { DeviceTensor, LinearRopeWriteKvArgs } from '../../../src/backend/backend.js';
import { linearRopeWriteKvUnfused } from '../../../src/backend/linearRopeWriteKv.js';
import { E4M3_VALUES, quantizeRowsFp8 } from '../../../src/backend/fp8E4m3.js';

let b: CudaBackend;
before(() => {
  b = new CudaBackend({ poisonAllocations: true });
});
after(async () => {
  await b.close();
});

function rand(n: number, amp: number): Float32Array {
  return Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * amp);
}
function tensor(shape: number[], values: Float32Array | Int32Array, dtype: 'bf16' | 'i32' = 'bf16'): DeviceTensor {
  const t = b.alloc(shape, dtype);
  b.write(t, values);
  return t;
}
async function values(t: DeviceTensor, what: string): Promise<number[]> {
  const v = Array.from(await b.download(t));
  const bad = v.findIndex((x) => !Number.isFinite(x));
  assert.equal(bad, -1, `${what}: element ${bad} was not written (${v[bad]})`);
  return v;
}

test('one token through each GEMV shape (small, many short rows, long rows): exact products summed in f32', async () => {
  // [n, k]: under 40 MB; over 40 MB with rows under 16 KB (gate_up's kernel); rows of 16 KB+.
  for (const [n, k] of [[520, 4096], [16392, 2576], [300, 16400]]) {
    const wv = rand(n * k, 0.1);
    const q = quantizeRowsFp8(wv, n, k);
    const w = b.uploadLinear({ data: { name: 'w', dtype: 'f8_e4m3', shape: [n, k], data: q.codes }, scales: q.scales });
    const x = Float32Array.from(await b.download(tensor([1, k], rand(k, 2)))); // the bf16 values
    const xt = tensor([1, k], x);
    const o = b.alloc([1, n], 'f32');
    b.linear(o, xt, w);
    const got = await values(o, `${n}x${k}`);
    for (let r = 0; r < n; r++) {
      let ref = 0;
      let mag = 0;
      for (let c = 0; c < k; c++) {
        const p = E4M3_VALUES[q.codes[r * k + c]] * x[c];
        ref += p;
        mag += Math.abs(p);
      }
      ref *= q.scales[r];
      mag *= q.scales[r];
      // (k - 1) f32 additions of exact products, then the scale: k * 2^-24 relative to the magnitude.
      const tol = k * 2 ** -24 * mag + Math.abs(ref) * 2 ** -23 + 1e-30;
      if (!(Math.abs(got[r] - ref) <= tol)) assert.fail(`${n}x${k} row ${r}: ${got[r]} vs ${ref} (tolerance ${tol.toExponential(2)})`);
    }
    for (const t of [xt, o]) b.free(t);
    b.freeLinear(w);
  }
});

test('linearSiluAndMul on one token: the bits of linear + siluAndMul', async () => {
  assert.equal(b.fp8.quantizesActivations(1), false, 'one token takes the bf16-x GEMV');
  for (const [d, k] of [[1000, 512], [4099, 1040], [64, 16]]) {
    const w = b.uploadLinear({ name: 'w13', dtype: 'f32', shape: [2 * d, k], data: new Uint8Array(rand(2 * d * k, 0.1).buffer) }, { quantize: 'fp8' });
    for (const m of [1, 3]) {
      const x = tensor([m, k], rand(m * k, 2));
      const gateUp = b.alloc([m, 2 * d], 'bf16');
      const [fused, plain] = [b.alloc([m, d], 'bf16'), b.alloc([m, d], 'bf16')];
      b.linearSiluAndMul(fused, gateUp, x, w);
      b.linear(gateUp, x, w);
      b.siluAndMul(plain, gateUp);
      assert.deepEqual(await values(fused, `fused ${m}x${d}x${k}`), await values(plain, 'plain'), `${m}x${d}x${k}`);
      for (const t of [x, gateUp, fused, plain]) b.free(t);
    }
    b.freeLinear(w);
  }
});

test('linearRopeWriteKv on one token: the bits of linear + ropeText + writeKv, caches included', async () => {
  for (const [numHeads, numKvHeads, headDim, k, position, slot] of [
    [4, 2, 64, 512, 37, 21],
    [6, 2, 128, 1040, 100000, 0],
    [2, 1, 32, 64, 5, 63], // the last slot
    [2, 1, 32, 64, 5, -1], // a padding token: no cache write
  ]) {
    const n = (numHeads + 2 * numKvHeads) * headDim;
    const w = b.uploadLinear({ name: 'wqkv', dtype: 'f32', shape: [n, k], data: new Uint8Array(rand(n * k, 0.1).buffer) }, { quantize: 'fp8' });
    const x = tensor([1, k], rand(k, 2));
    const positions = tensor([1], Int32Array.of(position), 'i32');
    const slotMapping = tensor([1], Int32Array.of(slot), 'i32');
    const cacheShape = [4, 16, numKvHeads, headDim];
    const cacheInit = rand(4 * 16 * numKvHeads * headDim, 1);
    const run = (fused: boolean) => {
      const a: LinearRopeWriteKvArgs = {
        qkv: b.alloc([1, n], 'bf16'),
        x,
        w,
        positions,
        slotMapping,
        kCache: tensor(cacheShape, cacheInit),
        vCache: tensor(cacheShape, cacheInit),
        numHeads,
        numKvHeads,
        headDim,
        theta: 1e9,
      };
      if (fused) b.linearRopeWriteKv(a);
      else linearRopeWriteKvUnfused(b, a);
      return a;
    };
    const [fused, plain] = [run(true), run(false)];
    const what = `${numHeads}/${numKvHeads} heads of ${headDim}, k ${k}, position ${position}, slot ${slot}`;
    assert.deepEqual(await values(fused.qkv, what), await values(plain.qkv, what), `qkv: ${what}`);
    for (const c of ['kCache', 'vCache'] as const) {
      const [got, want] = [await values(fused[c], what), await values(plain[c], what)];
      assert.deepEqual(got, want, `${c}: ${what}`);
      if (slot < 0) assert.deepEqual(got, await values(tensor(cacheShape, cacheInit), 'init'), `${c} untouched: ${what}`);
    }
    for (const a of [fused, plain]) for (const t of [a.qkv, a.kCache, a.vCache]) b.free(t);
    for (const t of [x, positions, slotMapping]) b.free(t);
    b.freeLinear(w);
  }
});

test('the one-token GEMV gives the same bits whether it reads its first weights before its launch wait or after', async () => {
  const late = new CudaBackend({ poisonAllocations: true, fp8WeightPreload: false });
  try {
    for (const [n, k] of [[200, 4096], [6144, 1040], [72, 20000]]) {
      const wv = rand(n * k, 0.1);
      const x = rand(k, 2);
      const outs: number[][] = [];
      for (const be of [b, late]) {
        const w = be.uploadLinear({ name: 'w', dtype: 'f32', shape: [n, k], data: new Uint8Array(wv.buffer) }, { quantize: 'fp8' });
        const xt = be.alloc([1, k], 'bf16');
        be.write(xt, x);
        const o = be.alloc([1, n], 'f32');
        await be.synchronize(); // the weight's quantization has finished: preload allowed
        be.linear(o, xt, w);
        outs.push(Array.from(await be.download(o)));
        be.free(xt);
        be.free(o);
        be.freeLinear(w);
      }
      assert.deepEqual(outs[0], outs[1], `${n}x${k}`);
    }
  } finally {
    await late.close();
  }
});
