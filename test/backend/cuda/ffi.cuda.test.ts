// FFI behaviour on a real GPU: failing calls name themselves and the driver's error, NVRTC
// errors carry the compiler log, graphs replay what was captured, cuBLASLt plans once per shape.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import { CudaError, KernelCompileError } from '../../../src/backend/cuda/ffi/errors.js';
import { Nvrtc } from '../../../src/backend/cuda/ffi/nvrtc.js';
import type { CudaTensor } from '../../../src/backend/cuda/cudaTensor.js';

let b: CudaBackend;
before(() => {
  b = new CudaBackend();
});
after(async () => {
  await b.close();
});

test('a failed driver call names the call and the CUDA error', () => {
  assert.throws(() => b.ctx.driver.malloc(2 ** 50), (e: unknown) => e instanceof CudaError && /cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY/.test(e.message));
  const mod = b.ctx.kernels.module('activation.cu');
  assert.throws(() => b.ctx.driver.getFunction(mod, 'no_such_kernel'), (e: unknown) => e instanceof CudaError && /cuModuleGetFunction\(no_such_kernel\): CUDA_ERROR_NOT_FOUND/.test(e.message));
});

test('an NVRTC compile error carries the log with the line', () => {
  const src = 'extern "C" __global__ void k(float* x) {\n  x[0] = undefined_name;\n}\n';
  assert.throws(
    () => Nvrtc.get().compile({ name: 'broken.cu', source: src, arch: b.ctx.info.arch }),
    (e: unknown) => e instanceof KernelCompileError && /broken\.cu/.test(e.message) && /undefined_name/.test(e.log) && /\(2\)/.test(e.log),
  );
});

test('a captured graph replays the same work as direct launches', async () => {
  const n = 1000;
  const x = Float32Array.from({ length: n }, () => Math.random() - 0.5);
  const a = b.alloc([n], 'f32');
  const acc = b.alloc([n], 'f32');
  b.write(a, x);
  b.write(acc, new Float32Array(n));
  const d = b.ctx.driver;
  d.beginCapture(b.ctx.stream);
  for (let i = 0; i < 3; i++) b.add(acc, acc, a);
  const graph = d.endCapture(b.ctx.stream);
  const exec = d.instantiateGraph(graph);
  assert.deepEqual(await b.download(acc), new Float32Array(n), 'capture must not execute');
  d.launchGraph(exec, b.ctx.stream);
  d.launchGraph(exec, b.ctx.stream);
  const got = (await b.download(acc)) as Float32Array;
  for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - 6 * x[i]) <= 1e-6 * Math.abs(x[i]) + 1e-7, `element ${i}`);
  d.destroyGraphExec(exec);
  d.destroyGraph(graph);
});

test('cuBLASLt plans each shape once and reuses it', () => {
  // 24 rows: past the gemv kernel's reach, so cuBLASLt serves it.
  const x = b.alloc([24, 64], 'bf16') as CudaTensor;
  const w = b.alloc([32, 64], 'bf16') as CudaTensor;
  const y = b.alloc([24, 32], 'bf16') as CudaTensor;
  const before = b.ctx.cublas.planCount;
  b.matmul(y, x, w);
  b.matmul(y, x, w);
  assert.equal(b.ctx.cublas.planCount, before + 1);
});
