// Splits the resize + normalisation of a large image over worker threads (the calling thread
// takes one band). Workers are created on first use, kept, and do not keep the process alive.
// Jobs run one at a time through two shared buffers that are kept and grown: fresh memory is
// expensive (page faults), so only the returned array is newly allocated per image.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { resizeNormalizeRows, type ResizeJob } from './normalize.js';
import type { WorkerRequest } from './resizeWorker.js';

/** Below this many output pixels one thread is faster than handing work out. */
const MIN_PARALLEL_PIXELS = 300_000;

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
}

class ResizePool {
  private workers: Worker[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private broken = false;
  private srcBuf = new SharedArrayBuffer(0);
  private outBuf = new SharedArrayBuffer(0);
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly size: number) {}

  private ensureWorkers(): Worker[] {
    while (this.workers.length < this.size) {
      const worker = new Worker(new URL('./resizeWorker.js', import.meta.url));
      worker.unref();
      worker.on('message', (msg: { id: number; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(msg.error));
        else p.resolve();
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', () => this.fail(new Error('resize worker exited')));
      this.workers.push(worker);
    }
    return this.workers;
  }

  private fail(err: Error): void {
    this.broken = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  run(job: ResizeJob): Promise<Float32Array> {
    const result = this.queue.then(() => this.runNow(job));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(job: ResizeJob): Promise<Float32Array> {
    const total = 3 * job.dstWidth * job.dstHeight;
    if (this.size === 0 || this.broken || job.dstWidth * job.dstHeight < MIN_PARALLEL_PIXELS) {
      const out = new Float32Array(total);
      resizeNormalizeRows(job, out, 0, job.dstHeight);
      return out;
    }
    const workers = this.ensureWorkers();
    if (this.srcBuf.byteLength < job.src.byteLength) this.srcBuf = new SharedArrayBuffer(job.src.byteLength);
    if (this.outBuf.byteLength < total * 4) this.outBuf = new SharedArrayBuffer(total * 4);
    const srcShared = this.srcBuf;
    const outShared = this.outBuf;
    new Uint8Array(srcShared, 0, job.src.byteLength).set(job.src);
    const bands = workers.length + 1;
    const rowsPer = Math.ceil(job.dstHeight / bands);
    const sharedJob = { ...job, src: srcShared };
    const done = workers.map((worker, i) => {
      const rowStart = Math.min(job.dstHeight, (i + 1) * rowsPer);
      const rowEnd = Math.min(job.dstHeight, (i + 2) * rowsPer);
      const id = this.nextId++;
      const request: WorkerRequest = { id, job: sharedJob, out: outShared, rowStart, rowEnd };
      return new Promise<void>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        worker.ref(); // keep the process alive while a band is out
        worker.postMessage(request);
      }).finally(() => worker.unref());
    });
    const out = new Float32Array(outShared, 0, total);
    resizeNormalizeRows({ ...job, src: new Uint8Array(srcShared, 0, job.src.byteLength) }, out, 0, Math.min(rowsPer, job.dstHeight));
    await Promise.all(done);
    // Hand back an ordinary (non-shared) array.
    return out.slice();
  }
}

let pool: ResizePool | undefined;

/** Resize + normalise into [3, dstHeight, dstWidth], over threads when the image is large. */
export function resizeNormalize(job: ResizeJob): Promise<Float32Array> {
  pool ??= new ResizePool(Math.max(0, Math.min(availableParallelism(), 4) - 1));
  return pool.run(job);
}
