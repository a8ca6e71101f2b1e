// Splits the resize + normalisation of a large image over worker threads (the calling thread
// takes one band). Workers are created on first use, kept, and do not keep the process alive.
// Jobs run one at a time through two shared buffers that are kept and grown: fresh memory is
// expensive (page faults), so only the returned array is newly allocated per image.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { resizeNormalizeRows, type ResizeJob } from './normalize.js';
import { sourceRows } from './cubicResize.js';
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

  private ensureWorkers(count: number): Worker[] {
    while (this.workers.length < count) {
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
    return this.workers.slice(0, count);
  }

  private fail(err: Error): void {
    this.broken = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  run(job: ResizeJob, threads: number): Promise<Float32Array> {
    if (threads <= 1 || this.broken || job.dstWidth * job.dstHeight < MIN_PARALLEL_PIXELS) {
      const out = new Float32Array(3 * job.dstWidth * job.dstHeight);
      resizeNormalizeRows(job, out, 0, job.dstHeight);
      return Promise.resolve(out);
    }
    // One threaded job at a time: they share the pool's buffers.
    const result = this.queue.then(() => this.runNow(job, threads));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(job: ResizeJob, threads: number): Promise<Float32Array> {
    const { srcWidth, srcHeight, dstWidth, dstHeight } = job;
    const plane = dstWidth * dstHeight;
    const out = new Float32Array(3 * plane);
    const workers = this.ensureWorkers(threads - 1);
    // Band 0 runs here from the caller's arrays; bands 1.. run in workers, each from a copy of
    // just the source rows it reads, into the shared output, copied back afterwards.
    const bands = workers.length + 1;
    const rowsPer = Math.ceil(dstHeight / bands);
    const rowBytes = srcWidth * 3;
    const work = workers
      .map((worker, i) => {
        const rowStart = Math.min(dstHeight, (i + 1) * rowsPer);
        const rowEnd = Math.min(dstHeight, (i + 2) * rowsPer);
        const [first, last] = rowStart < rowEnd ? sourceRows(srcHeight, dstHeight, rowStart, rowEnd, job.arithmetic) : [0, -1];
        return { worker, rowStart, rowEnd, first, bytes: (last - first + 1) * rowBytes };
      })
      .filter((b) => b.rowStart < b.rowEnd);
    const srcTotal = work.reduce((n, b) => n + b.bytes, 0);
    if (this.srcBuf.byteLength < srcTotal) this.srcBuf = new SharedArrayBuffer(srcTotal);
    if (this.outBuf.byteLength < out.byteLength) this.outBuf = new SharedArrayBuffer(out.byteLength);
    const shared = new Float32Array(this.outBuf, 0, out.length);
    let offset = 0;
    const done = work.map((b) => {
      const src = new Uint8Array(this.srcBuf, offset, b.bytes);
      src.set(job.src.subarray(b.first * rowBytes, b.first * rowBytes + b.bytes));
      const request: WorkerRequest = {
        id: this.nextId++,
        job: { ...job, src: this.srcBuf, srcRowOffset: b.first },
        srcByteOffset: offset,
        srcBytes: b.bytes,
        out: this.outBuf,
        rowStart: b.rowStart,
        rowEnd: b.rowEnd,
      };
      offset += b.bytes;
      return new Promise<void>((resolve, reject) => {
        this.pending.set(request.id, { resolve, reject });
        b.worker.ref(); // keep the process alive while a band is out
        b.worker.postMessage(request);
      }).finally(() => b.worker.unref());
    });
    resizeNormalizeRows(job, out, 0, Math.min(rowsPer, dstHeight));
    await Promise.all(done);
    for (const b of work) {
      for (let c = 0; c < 3; c++) {
        const from = c * plane + b.rowStart * dstWidth;
        out.set(shared.subarray(from, c * plane + b.rowEnd * dstWidth), from);
      }
    }
    return out;
  }
}

let pool: ResizePool | undefined;

/** Default thread count for resizeNormalize: the cores, at most 4. */
export function defaultResizeThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

/**
 * Resize + normalise into [3, dstHeight, dstWidth]. With threads > 1 and a large image, the
 * rows are split between the calling thread and threads - 1 workers; otherwise it runs here.
 */
export function resizeNormalize(job: ResizeJob, threads = defaultResizeThreads()): Promise<Float32Array> {
  pool ??= new ResizePool();
  return pool.run(job, threads);
}
