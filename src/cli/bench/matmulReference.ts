// GFLOP/s of the CPU backend's matmul beside numpy (OpenBLAS) on the same shapes, in the same
// invocation: `y = x · wᵀ` in f32.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Backend } from '../../backend/backend.js';

export interface MatmulFigure {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly ours_gflops: number;
  readonly numpy_gflops: number | null;
}

function timeIt(fn: () => void, flops: number): number {
  fn();
  const reps = Math.max(3, Math.min(200, Math.round(1e9 / flops)));
  const t = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) fn();
  const sec = Number(process.hrtime.bigint() - t) / 1e9 / reps;
  return flops / sec / 1e9;
}

/** Times `backend.matmul` on f32 tensors; for a backend whose ops run synchronously (the CPU's). */
export function oursGflops(backend: Backend, m: number, n: number, k: number): number {
  const x = backend.alloc([m, k], 'f32');
  const w = backend.alloc([n, k], 'f32');
  const out = backend.alloc([m, n], 'f32');
  backend.write(x, Float32Array.from({ length: m * k }, () => Math.random() - 0.5));
  backend.write(w, Float32Array.from({ length: n * k }, () => Math.random() - 0.5));
  const g = timeIt(() => backend.matmul(out, x, w), 2 * m * n * k);
  for (const t of [x, w, out]) backend.free(t);
  return g;
}

const NUMPY_SCRIPT = `
import sys, time, json
import numpy as np
out = []
for spec in sys.argv[1:]:
    m, n, k = map(int, spec.split('x'))
    x = np.random.rand(m, k).astype(np.float32); w = np.random.rand(n, k).astype(np.float32)
    x @ w.T
    flops = 2.0 * m * n * k
    reps = max(3, min(200, round(1e9 / flops)))
    t = time.perf_counter()
    for _ in range(reps): x @ w.T
    out.append(flops / ((time.perf_counter() - t) / reps) / 1e9)
import os
blas = os.path.realpath('/etc/alternatives/libblas.so.3-x86_64-linux-gnu') if os.path.exists('/etc/alternatives/libblas.so.3-x86_64-linux-gnu') else 'unknown BLAS'
print(json.dumps({"gflops": out, "numpy": np.__version__, "blas": blas}))
`;

export interface NumpyRun {
  readonly gflops: (number | null)[];
  readonly note: string;
}

/** Runs Debian's /usr/bin/python3 + python3-numpy; null figures (and why) when absent. */
export function numpyGflops(shapes: readonly [number, number, number][]): NumpyRun {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return { gflops: shapes.map(() => null), note: `${python} not found` };
  const res = spawnSync(python, ['-c', NUMPY_SCRIPT, ...shapes.map((s) => s.join('x'))], { encoding: 'utf8' });
  if (res.status !== 0) {
    const why = /No module named/.test(res.stderr) ? 'numpy is not installed (apt-get install -y python3-numpy)' : res.stderr.trim().split('\n').pop();
    return { gflops: shapes.map(() => null), note: `${python}: ${why}` };
  }
  const parsed = JSON.parse(res.stdout) as { gflops: number[]; numpy: string; blas: string };
  return { gflops: parsed.gflops, note: `${python}, numpy ${parsed.numpy}, BLAS ${parsed.blas}` };
}
