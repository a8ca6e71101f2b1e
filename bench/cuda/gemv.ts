// Decode GEMV shapes (m = 1) on the CUDA backend: the split-K gemv kernel against the
// whole-row gemv kernel and cuBLASLt, device time by events, weights rotated among copies so
// that more than 256 MB is read (L2 does not serve them).
//   node dist/bench/cuda/gemv.js [results.json]
import { writeFileSync } from 'node:fs';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import type { DeviceTensor } from '../../src/backend/backend.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { loadBuiltinConfig, MISTRAL_SMALL_3_1 } from '../../src/model/builtinConfigs.js';

const variants = {
  splitK: new CudaBackend({ gemvMaxRows: 2, gemvSplitKMaxN: 1 << 30 }),
  wholeRows: new CudaBackend({ gemvMaxRows: 2, gemvSplitKMaxN: 0 }),
  cublasLt: new CudaBackend({ gemvMaxRows: 0 }),
};
const cfg = await loadBuiltinConfig(MISTRAL_SMALL_3_1);
const spec = new DummyWeightSource(cfg).fillSpec('layers.0.attention.wq');
const shapes: [string, number, number][] = [['qkv', 6144, 5120], ['o_proj', 5120, 4096], ['down', 5120, 32768], ['gate_up', 65536, 5120]];
const rows: Record<string, unknown>[] = [];
for (const [what, n, k] of shapes) {
  const row: Record<string, unknown> = { what, m: 1, n, k, floor_us: (n * k * 2) / 3000e9 * 1e6 };
  for (const [name, b] of Object.entries(variants)) {
    const copies = Math.max(2, Math.ceil(256e6 / (n * k * 2)));
    const ws: DeviceTensor[] = [];
    for (let c = 0; c < copies; c++) ws.push(b.createDummyWeight([{ ...spec, shape: [n, k] }]));
    const x = b.alloc([1, k], 'bf16');
    b.write(x, Float32Array.from({ length: k }, (_, i) => Math.sin(i)));
    const y = b.alloc([1, n], 'bf16');
    const d = b.ctx.driver;
    const [e0, e1] = [d.createEvent(), d.createEvent()];
    for (let i = 0; i < 5; i++) b.matmul(y, x, ws[i % copies]);
    const t: number[] = [];
    for (let i = 0; i < 30; i++) {
      d.recordEvent(e0, b.ctx.stream);
      b.matmul(y, x, ws[i % copies]);
      d.recordEvent(e1, b.ctx.stream);
      d.eventSynchronize(e1);
      t.push(d.elapsedMs(e0, e1) * 1000);
    }
    t.sort((a, c) => a - c);
    row[`${name}_us`] = t[15];
    for (const w of [...ws, x, y]) b.free(w);
    await b.synchronize();
  }
  console.log(JSON.stringify(row));
  rows.push(row);
}
const result = { tool: 'bench/cuda/gemv.ts', command: process.argv.join(' '), date: new Date().toISOString(), card: variants.splitK.deviceName, rows };
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(result, null, 1) + '\n');
for (const b of Object.values(variants)) await b.close();
