// FP8 linear layers on the CUDA backend at the Mistral Small 3.1 shapes (issue 16), against bf16
// at the same shapes: for m = 1..16 the skinny FP8 kernels (tensor cores on per-token FP8 x,
// timed with its quantization pass; the GEMV on bf16 x) and the FP8 GEMM path (per-token
// quantization + cuBLASLt), above that the FP8 GEMM; bf16 through the backend's matmul policy. Device time
// per call by events around a replayed CUDA graph of one call per weight copy (launch gaps
// out); copies rotate so that at least 1 GB of weights is read (L2 serves none of it).
//   node dist/bench/cuda/fp8Gemm.js [results.json]
import { writeFileSync } from 'node:fs';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import type { DeviceTensor, LinearWeight } from '../../src/backend/backend.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { loadBuiltinConfig, MISTRAL_SMALL_3_1 } from '../../src/model/builtinConfigs.js';

// The tensor cores at every m <= 16 (the default sends a single row to the bf16-x GEMV, which
// fp8_gemv_us times).
const fp8Mma = new CudaBackend({ fp8GemvMaxRows: 16, fp8Bf16GemvMaxRows: 0 });
const fp8Gemv = new CudaBackend({ fp8GemvMaxRows: 16, fp8SkinnyKernel: 'gemv' });
const fp8Gemm = new CudaBackend({ fp8GemvMaxRows: 0 });
const bf16 = fp8Gemv; // dense weights take the bf16 matmul whatever fp8GemvMaxRows says
const cfg = await loadBuiltinConfig(MISTRAL_SMALL_3_1);
const spec = new DummyWeightSource(cfg).fillSpec('layers.0.attention.wq');
const shapes: [string, number, number][] = [['qkv', 6144, 5120], ['o_proj', 5120, 4096], ['gate_up', 65536, 5120], ['down', 5120, 32768]];
const ms = (process.env.FP8_BENCH_M ?? '1,2,4,8,16,64,256,4096').split(',').map(Number);

/** Median µs per call of `call(copy)` over `copies` weight copies, by graph replay. */
async function time(b: CudaBackend, copies: number, call: (c: number) => void): Promise<number> {
  for (let c = 0; c < copies; c++) call(c); // plans, autotunes, sizes scratch
  const graph = b.captureGraph(() => {
    for (let c = 0; c < copies; c++) call(c);
  });
  const d = b.ctx.driver;
  const [e0, e1] = [d.createEvent(), d.createEvent()];
  for (let i = 0; i < 3; i++) graph.replay();
  const t: number[] = [];
  for (let i = 0; i < 9; i++) {
    d.recordEvent(e0, b.ctx.stream);
    graph.replay();
    d.recordEvent(e1, b.ctx.stream);
    d.eventSynchronize(e1);
    t.push((d.elapsedMs(e0, e1) * 1000) / copies);
  }
  graph.dispose();
  d.destroyEvent(e0);
  d.destroyEvent(e1);
  await b.synchronize();
  return t.sort((a, c) => a - c)[4];
}

const rows: Record<string, unknown>[] = [];
for (const [what, n, k] of shapes) {
  const copiesFp8 = Math.max(2, Math.ceil(1e9 / (n * k)));
  const copiesBf16 = Math.max(2, Math.ceil(1e9 / (2 * n * k)));
  const dense: DeviceTensor[] = [];
  for (let c = 0; c < copiesBf16; c++) dense.push(bf16.createDummyWeight([{ ...spec, shape: [n, k] }]));
  const fp8: Record<string, LinearWeight[]> = { mma: [], gemv: [], gemm: [] };
  for (const [name, b] of [['mma', fp8Mma], ['gemv', fp8Gemv], ['gemm', fp8Gemm]] as const) {
    const d = b.createDummyWeight([{ ...spec, shape: [n, k] }]);
    for (let c = 0; c < copiesFp8; c++) fp8[name].push(b.quantizeLinear(d));
    b.free(d);
  }
  for (const m of ms) {
    const row: Record<string, number | string> = { what, m, n, k };
    const flop = 2 * m * n * k;
    const run = async (b: CudaBackend, ws: LinearWeight[] | DeviceTensor[], dense: boolean, prepared = false): Promise<number> => {
      const x = b.createDummyWeight([{ ...spec, name: 'x', shape: [m, k] }]);
      const norm = b.createDummyWeight([{ ...spec, name: 'norm', shape: [k] }]);
      // prepared: x's FP8 form written by the producer (an rmsNorm), as in the decoder.
      if (prepared) b.rmsNorm(x, x, norm, 1e-5, ws[0] as LinearWeight);
      b.free(norm);
      const y = b.alloc([m, n], 'bf16');
      const us = await time(b, ws.length, (c) => (dense ? b.matmul(y, x, ws[c] as DeviceTensor) : b.linear(y, x, ws[c] as LinearWeight)));
      b.free(x);
      b.free(y);
      return us;
    };
    row.bf16_us = await run(bf16, dense, true);
    if (m <= 16) row.fp8_mma_us = await run(fp8Mma, fp8.mma, false);
    if (m <= 16) row.fp8_mma_prepared_us = await run(fp8Mma, fp8.mma, false, true);
    if (m <= 16) row.fp8_gemv_us = await run(fp8Gemv, fp8.gemv, false);
    row.fp8_gemm_us = await run(fp8Gemm, fp8.gemm, false);
    const best = Math.min(Number(row.fp8_mma_prepared_us ?? Infinity), Number(row.fp8_mma_us ?? Infinity), Number(row.fp8_gemv_us ?? Infinity), Number(row.fp8_gemm_us));
    row.fp8_weight_GBps = Math.round((n * k + 4 * n) / best / 1e3);
    row.bf16_weight_GBps = Math.round((2 * n * k) / Number(row.bf16_us) / 1e3);
    row.fp8_TFLOPs = Math.round(flop / best / 1e6);
    row.bf16_TFLOPs = Math.round(flop / Number(row.bf16_us) / 1e6);
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  for (const t of dense) bf16.free(t);
  for (const w of fp8.mma) fp8Mma.freeLinear(w);
  for (const w of fp8.gemv) fp8Gemv.freeLinear(w);
  for (const w of fp8.gemm) fp8Gemm.freeLinear(w);
  await fp8Mma.synchronize();
  await fp8Gemv.synchronize();
  await fp8Gemm.synchronize();
}
// The producers of linear inputs, plain and with the FP8 form fused (feeds), at decode sizes:
// µs a call in a graph of 50 calls (launch gaps included, as in the decode graph).
const producers: Record<string, number | string>[] = [];
{
  const b = fp8Mma;
  const d2 = b.createDummyWeight([{ ...spec, shape: [64, 32768] }]);
  const wDown = b.quantizeLinear(d2);
  b.free(d2);
  const d3 = b.createDummyWeight([{ ...spec, shape: [64, 5120] }]);
  const wQkv = b.quantizeLinear(d3);
  b.free(d3);
  for (const m of [1, 8, 64]) {
    const x = b.createDummyWeight([{ ...spec, name: 'x', shape: [m, 5120] }]);
    const norm = b.createDummyWeight([{ ...spec, name: 'norm', shape: [5120] }]);
    const out = b.alloc([m, 5120], 'bf16');
    const gu = b.createDummyWeight([{ ...spec, name: 'gu', shape: [m, 65536] }]);
    const act = b.alloc([m, 32768], 'bf16');
    const row: Record<string, number | string> = { what: 'producers', m };
    row.rmsnorm_us = await time(b, 50, () => b.rmsNorm(out, x, norm, 1e-5));
    row.rmsnorm_fp8_us = await time(b, 50, () => b.rmsNorm(out, x, norm, 1e-5, wQkv));
    row.silu_us = await time(b, 50, () => b.siluAndMul(act, gu));
    row.silu_fp8_us = await time(b, 50, () => b.siluAndMul(act, gu, wDown));
    console.log(JSON.stringify(row));
    producers.push(row);
    for (const t of [x, norm, out, gu, act]) b.free(t);
  }
  for (const w of [wDown, wQkv]) b.freeLinear(w);
  await b.synchronize();
}

const result = {
  tool: 'bench/cuda/fp8Gemm.ts',
  command: process.argv.join(' '),
  date: new Date().toISOString(),
  card: fp8Gemv.deviceName,
  timing: 'median of 9 graph replays, one call per weight copy (>= 1 GB of weights per replay), µs per call',
  autotuned: fp8Gemm.ctx.cublasAutotuned(),
  fp8_routes: Object.fromEntries(fp8Gemm.fp8.routes),
  rows,
  producers,
};
console.log(JSON.stringify({ fp8_routes: result.fp8_routes }));
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(result, null, 1) + '\n');
await fp8Mma.close();
await fp8Gemv.close();
await fp8Gemm.close();
