// The backend op suite on the CPU backend (two threads, so the split matmul path runs), and a
// check that the split gives what one thread gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { runOpSuite } from './opsSuite.js';

runOpSuite('cpu', async () => {
  const b = new CpuBackend({ threads: 2 });
  await b.ready();
  return b;
});

test('cpu matmul split over two threads equals one thread, tail columns included', async () => {
  const [m, n, k] = [33, 518, 71];
  const x = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
  const w = Float32Array.from({ length: n * k }, () => Math.random() - 0.5);
  const results: Float32Array[] = [];
  for (const threads of [1, 2]) {
    const b = new CpuBackend({ threads });
    await b.ready();
    const [xt, wt, out] = [b.alloc([m, k], 'f32'), b.alloc([n, k], 'f32'), b.alloc([m, n], 'f32')];
    b.write(xt, x);
    b.write(wt, w);
    b.matmul(out, xt, wt);
    results.push((await b.download(out)) as Float32Array);
    await b.close();
  }
  assert.deepEqual(results[1], results[0]);
});
