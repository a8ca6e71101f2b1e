// Matmul paths the shared op suite's random shapes may miss: the gemv kernel (m <= 8, k a
// multiple of 8) with bf16 and f32 outputs, and cuBLASLt at the same shapes, against float64
// on the bf16-rounded inputs. Outputs are poisoned first.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import { fromBf16Bits, matmulRef, relErr, toBf16Bits } from '../opsReference.js';

let gemv: CudaBackend;
let gemvWhole: CudaBackend;
let cublas: CudaBackend;
before(() => {
  gemv = new CudaBackend({ poisonAllocations: true, gemvMaxRows: 8 }); // m <= 2: split-K kernel
  gemvWhole = new CudaBackend({ poisonAllocations: true, gemvMaxRows: 8, gemvSplitKMaxN: 0 });
  cublas = new CudaBackend({ poisonAllocations: true, gemvMaxRows: 0 });
});
after(async () => {
  await gemv.close();
  await gemvWhole.close();
  await cublas.close();
});

const randBf16 = (n: number) => Float32Array.from({ length: n }, () => fromBf16Bits(toBf16Bits(Math.random() * 2 - 1)));

for (const [label, backend] of [['gemv (split-K at m <= 2)', () => gemv], ['gemv (whole rows)', () => gemvWhole], ['cuBLASLt', () => cublas]] as const) {
  test(`skinny matmuls through ${label}: m = 1..8, bf16 and f32 out`, async () => {
    const b = backend();
    for (const [m, big] of [[1, false], [2, false], [3, false], [5, false], [8, false], [1, true], [2, true]] as const) {
      // big: k past one pass of the split-K CTA (256 threads x UNROLL 4 chunks of 8) and a ragged n.
      const [n, k] = big ? [1000 + Math.floor(Math.random() * 30), 8 * (1100 + Math.floor(Math.random() * 90))] : [37 + Math.floor(Math.random() * 300), 8 * (20 + Math.floor(Math.random() * 90))];
      const x = randBf16(m * k);
      const w = randBf16(n * k);
      const xt = b.alloc([m, k], 'bf16');
      b.write(xt, x);
      const wt = b.uploadWeight({ name: 'w', dtype: 'f32', shape: [n, k], data: new Uint8Array(w.buffer) });
      const ref = matmulRef(x, w, m, n, k);
      for (const outType of ['f32', 'bf16'] as const) {
        const o = b.alloc([m, n], outType);
        b.matmul(o, xt, wt);
        const e = relErr(await b.download(o), ref);
        assert.ok(e <= (outType === 'f32' ? 1e-5 : 4e-3), `${label} ${m}x${n}x${k} -> ${outType}: relative error ${e.toExponential(2)}`);
        b.free(o);
      }
      b.free(xt);
      b.free(wt);
    }
  });
}
