// A matmul worker thread: computes its column range of out = x · wᵀ over shared memory,
// then raises its done flag.
import { parentPort } from 'node:worker_threads';
import { matmulColumns } from './matmulKernel.js';

export interface MatmulJob {
  x: Float32Array;
  w: Float32Array;
  out: Float32Array;
  m: number;
  n: number;
  k: number;
  j0: number;
  j1: number;
  /** Int32Array over a SharedArrayBuffer; element `slot` set to 1 when done. */
  done: Int32Array;
  slot: number;
}

parentPort?.on('message', (job: MatmulJob) => {
  try {
    matmulColumns(job.x, job.w, job.out, job.m, job.n, job.k, job.j0, job.j1);
    Atomics.store(job.done, job.slot, 1);
  } catch {
    Atomics.store(job.done, job.slot, -1);
  }
  Atomics.notify(job.done, job.slot);
});
