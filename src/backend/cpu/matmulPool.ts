// out = x · wᵀ split by output columns over the main thread and `threads - 1` workers.
// Tensors live in SharedArrayBuffers, so a job message carries only views; the main thread
// computes its own share and then blocks (Atomics.wait) until every worker raised its flag.
import { Worker } from 'node:worker_threads';
import { matmulColumns } from './matmulKernel.js';
import type { MatmulJob } from './matmulWorker.js';

/** Below this many multiply-adds the message round trip costs more than it saves. */
const MIN_PARALLEL_WORK = 1 << 18;

export class MatmulPool {
  private readonly workers: Worker[] = [];
  private readonly done: Int32Array;

  constructor(readonly threads: number) {
    this.done = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, threads)));
    for (let t = 1; t < threads; t++) {
      const worker = new Worker(new URL('./matmulWorker.js', import.meta.url));
      worker.unref();
      this.workers.push(worker);
    }
  }

  run(x: Float32Array, w: Float32Array, out: Float32Array, m: number, n: number, k: number): void {
    const parts = m * n * k < MIN_PARALLEL_WORK ? 1 : Math.min(this.threads, Math.ceil(n / 4));
    if (parts <= 1) {
      matmulColumns(x, w, out, m, n, k, 0, n);
      return;
    }
    // Column ranges in multiples of 4 (the kernel's tile width); the main thread takes part 0.
    const per = Math.ceil(n / parts / 4) * 4;
    const jobs: MatmulJob[] = [];
    for (let p = 1; p < parts; p++) {
      const j0 = Math.min(n, p * per);
      const j1 = Math.min(n, j0 + per);
      if (j0 >= j1) continue;
      Atomics.store(this.done, p, 0);
      jobs.push({ x, w, out, m, n, k, j0, j1, done: this.done, slot: p });
    }
    for (const job of jobs) this.workers[job.slot - 1].postMessage(job);
    matmulColumns(x, w, out, m, n, k, 0, Math.min(n, per));
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
