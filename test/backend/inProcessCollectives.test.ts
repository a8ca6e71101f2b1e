// The in-process collectives (src/backend/cpu/inProcessCollectives.ts) between simulated CPU
// ranks: sums in rank order, column gathers, misuse refused, and the f32 bound a row-parallel
// linear (wo, w2 split over ranks, then all-reduced) keeps to against the unsplit one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceTensor } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { createInProcessCollectives } from '../../src/backend/cpu/inProcessCollectives.js';

const backends = Array.from({ length: 5 }, () => new CpuBackend({ threads: 1 }));
after(() => Promise.all(backends.map((b) => b.close())));

const tensor = (rank: number, shape: number[], values: number[]): DeviceTensor => {
  const t = backends[rank].alloc(shape, 'f32');
  backends[rank].write(t, Float32Array.from(values));
  return t;
};
const read = async (rank: number, t: DeviceTensor) => [...((await backends[rank].download(t)) as Float32Array)];

test('allReduceSum: every rank ends with the sum, added in rank order', async () => {
  const comms = createInProcessCollectives(3);
  // 1 + 2^-24 + 2^-24 in rank order rounds back to 1 twice; another order would give 1 + 2^-23.
  const ts = [tensor(0, [2], [1, 5]), tensor(1, [2], [2 ** -24, -2]), tensor(2, [2], [2 ** -24, 0.5])];
  await Promise.all(comms.map((c, r) => c.allReduceSum(ts[r])));
  for (let r = 0; r < 3; r++) assert.deepEqual(await read(r, ts[r]), [1, 3.5], `rank ${r}`);
});

test('allGatherColumns: each row holds rank 0\'s columns, then rank 1\'s', async () => {
  const comms = createInProcessCollectives(2);
  const locals = [tensor(0, [2, 2], [1, 2, 3, 4]), tensor(1, [2, 2], [5, 6, 7, 8])];
  const outs = [backends[0].alloc([2, 4], 'f32'), backends[1].alloc([2, 4], 'f32')];
  await Promise.all(comms.map((c, r) => c.allGatherColumns(outs[r], locals[r])));
  for (let r = 0; r < 2; r++) assert.deepEqual(await read(r, outs[r]), [1, 2, 5, 6, 3, 4, 7, 8]);
});

test('ranks calling different collectives, or one rank calling twice, are refused', async () => {
  const comms = createInProcessCollectives(2);
  const a = comms[0].allReduceSum(tensor(0, [1], [1]));
  await assert.rejects(comms[1].allGatherColumns(backends[1].alloc([1, 2], 'f32'), tensor(1, [1, 1], [1])), /rank 1 called allGatherColumns while other ranks called allReduceSum/);
  await assert.rejects(a, /rank 1 called allGatherColumns/);
  const b = comms[0].allReduceSum(tensor(0, [1], [1]));
  await assert.rejects(comms[0].allReduceSum(tensor(0, [1], [1])), /rank 0: allReduceSum before its previous collective/);
  await Promise.all([b, comms[1].allReduceSum(tensor(1, [1], [2]))]);
  const c = comms[0].allReduceSum(tensor(0, [2], [1, 1]));
  await assert.rejects(comms[1].allReduceSum(tensor(1, [3], [1, 1, 1])), /allReduceSum: ranks hold 2, 3 elements/);
  await assert.rejects(c);
});

test('a row-parallel linear over 2 and 4 ranks stays within 2·γₖ·Σ|xᵢwᵢ| of the unsplit one', async () => {
  // out = x · wᵀ with x [m, k], w [n, k]; rank r holds columns r*k/N.. of x and w (wo, w2).
  const m = 3, n = 40, k = 128;
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = Float32Array.from({ length: m * k }, rand);
  const w = Float32Array.from({ length: n * k }, rand);
  const single = backends[4];
  const full = single.alloc([m, n], 'f32');
  const xt = single.alloc([m, k], 'f32');
  const wt = single.alloc([n, k], 'f32');
  single.write(xt, x);
  single.write(wt, w);
  single.matmul(full, xt, wt);
  const want = (await single.download(full)) as Float32Array;
  const u = 2 ** -24;
  const gamma = (k * u) / (1 - k * u);
  for (const size of [2, 4]) {
    const comms = createInProcessCollectives(size);
    const c = k / size;
    const cols = (a: Float32Array, rows: number, r: number) => Float32Array.from({ length: rows * c }, (_, i) => a[Math.floor(i / c) * k + r * c + (i % c)]);
    const outs = await Promise.all(comms.map(async (comm, r) => {
      const b = backends[r];
      const [xr, wr, out] = [b.alloc([m, c], 'f32'), b.alloc([n, c], 'f32'), b.alloc([m, n], 'f32')];
      b.write(xr, cols(x, m, r));
      b.write(wr, cols(w, n, r));
      b.matmul(out, xr, wr);
      await comm.allReduceSum(out);
      return (await b.download(out)) as Float32Array;
    }));
    let exactlyEqual = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let abs = 0;
        for (let p = 0; p < k; p++) abs += Math.abs(x[i * k + p] * w[j * k + p]);
        const got = outs[0][i * n + j];
        assert.ok(Math.abs(got - want[i * n + j]) <= 2 * gamma * abs, `N=${size} [${i}, ${j}]: ${got} vs ${want[i * n + j]}, bound ${2 * gamma * abs}`);
        if (got === want[i * n + j]) exactlyEqual++;
        for (let r = 1; r < size; r++) assert.equal(outs[r][i * n + j], got, 'every rank holds the same sum');
      }
    }
    // Reordered sums do round differently: the bound, not equality, is what holds.
    assert.ok(exactlyEqual < m * n, `N=${size}: all ${m * n} outputs equal (the split is not exercised)`);
  }
});
