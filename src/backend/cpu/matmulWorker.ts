// A matmul worker thread: instantiates the WASM SIMD kernel over the backend's shared memory
// (workerData), then computes the column ranges it is sent and raises its done flag.
import { parentPort, workerData } from 'node:worker_threads';
import { MATMUL_WASM_BASE64 } from './matmulWasmBinary.js';
import { matmulModule } from './wasmHeap.js';

export interface MatmulWorkerData {
  memory: WebAssembly.Memory;
  /** Int32Array over a SharedArrayBuffer: one done flag per thread. */
  done: Int32Array;
  /** Set to 1 at index `slot` once this worker's kernel is instantiated. */
  ready: Int32Array;
  slot: number;
}

/** Byte addresses into the shared memory; columns [j0, j1) with (j1 - j0) % 4 == 0. */
export interface MatmulJob {
  x: number;
  w: number;
  out: number;
  m: number;
  n: number;
  k: number;
  j0: number;
  j1: number;
  slot: number;
}

export type WasmMatmul = (x: number, w: number, out: number, m: number, n: number, k: number, j0: number, j1: number) => void;

const data = workerData as MatmulWorkerData;
const instance = new WebAssembly.Instance(matmulModule(MATMUL_WASM_BASE64), { env: { memory: data.memory } });
const matmul = instance.exports.matmul as WasmMatmul;
Atomics.store(data.ready, data.slot, 1);

parentPort?.on('message', (job: MatmulJob) => {
  try {
    matmul(job.x, job.w, job.out, job.m, job.n, job.k, job.j0, job.j1);
    Atomics.store(data.done, job.slot, 1);
  } catch {
    Atomics.store(data.done, job.slot, -1);
  }
  Atomics.notify(data.done, job.slot);
});
