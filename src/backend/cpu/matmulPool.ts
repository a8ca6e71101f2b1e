// out = x · wᵀ with the WASM SIMD kernel, split by output columns over the main thread and
// `threads - 1` workers sharing the heap's memory. A job message carries only byte addresses;
// the main thread computes its own share, then blocks (Atomics.wait) until every worker raised
// its flag. Columns past the last multiple of 4 go through the plain JS kernel.
import { Worker } from 'node:worker_threads';
import { matmulColumns } from './matmulKernel.js';
import { MATMUL_WASM_BASE64 } from './matmulWasmBinary.js';
import type { MatmulJob, MatmulWorkerData, WasmMatmul } from './matmulWorker.js';
import { matmulModule, type WasmHeap } from './wasmHeap.js';

/** Below this many multiply-adds the message round trip costs more than it saves. */
const MIN_PARALLEL_WORK = 1 << 17;

export class MatmulPool {
  private readonly workers: Worker[] = [];
  private readonly done: Int32Array;
  private readonly ready: Int32Array;
  private readonly kernel: WasmMatmul;

  constructor(
    heap: WasmHeap,
    readonly threads: number,
  ) {
    this.done = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, threads)));
    this.ready = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, threads)));
    const instance = new WebAssembly.Instance(matmulModule(MATMUL_WASM_BASE64), { env: { memory: heap.memory } });
    this.kernel = instance.exports.matmul as WasmMatmul;
    for (let t = 1; t < threads; t++) {
      const workerData: MatmulWorkerData = { memory: heap.memory, done: this.done, ready: this.ready, slot: t };
      const worker = new Worker(new URL('./matmulWorker.js', import.meta.url), { workerData });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Threads that can take a share now (the calling thread plus the started workers). */
  get readyThreads(): number {
    let n = 1;
    while (n < this.threads && Atomics.load(this.ready, n) === 1) n++;
    return n;
  }

  /** x [m, k], w [n, k], out [m, n]: f32 views into the heap's memory. */
  run(x: Float32Array, w: Float32Array, out: Float32Array, m: number, n: number, k: number): void {
    const n4 = n - (n % 4);
    if (n4 < n) matmulColumns(x, w, out, m, n, k, n4, n);
    if (n4 === 0) return;
    // Workers still starting (or that failed to start) are left out: the calling thread never
    // waits on a worker that cannot answer.
    const parts = m * n * k < MIN_PARALLEL_WORK ? 1 : Math.min(this.readyThreads, n4 / 4);
    const per = Math.ceil(n4 / parts / 4) * 4;
    const jobs: MatmulJob[] = [];
    for (let p = 1; p < parts; p++) {
      const j0 = Math.min(n4, p * per);
      const j1 = Math.min(n4, j0 + per);
      if (j0 >= j1) continue;
      Atomics.store(this.done, p, 0);
      jobs.push({ x: x.byteOffset, w: w.byteOffset, out: out.byteOffset, m, n, k, j0, j1, slot: p });
    }
    for (const job of jobs) this.workers[job.slot - 1].postMessage(job);
    this.kernel(x.byteOffset, w.byteOffset, out.byteOffset, m, n, k, 0, Math.min(n4, per));
    for (const job of jobs) {
      Atomics.wait(this.done, job.slot, 0);
      if (Atomics.load(this.done, job.slot) !== 1) throw new Error('matmul worker failed');
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
