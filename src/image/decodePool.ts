// Decodes images in worker threads (decodeWorker.ts), a few at a time, so that decoding and
// resizing a large image leaves the event loop free. Workers start on first use and do not keep
// the process alive while idle; one that dies fails its job and is replaced.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DecodedImage, DecodeJobOptions, DecodeReply, DecodeRequest } from './decodeMessages.js';
import { ImageError } from './errors.js';

interface Job {
  readonly request: DecodeRequest;
  readonly resolve: (r: DecodedImage) => void;
  readonly reject: (e: Error) => void;
}

class DecodePool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private count = 0;
  private nextId = 0;

  constructor(private readonly size: number) {}

  run(bytes: Uint8Array, label: string, options: DecodeJobOptions): Promise<DecodedImage> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, bytes, label, options }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker && this.count < this.size) worker = this.spawn();
      if (!worker) return;
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      worker.ref();
      worker.postMessage(job.request);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./decodeWorker.js', import.meta.url));
    this.count++;
    worker.on('message', (msg: DecodeReply) => {
      const job = this.busy.get(worker);
      if (!job || job.request.id !== msg.id) return;
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if (msg.ok) {
        job.resolve({ tokens: msg.tokens, pixels: msg.pixels, height: msg.height, width: msg.width, widthTokens: msg.widthTokens, heightTokens: msg.heightTokens });
      } else job.reject(msg.imageError ? new ImageError(msg.source, msg.message) : new Error(msg.message));
      this.pump();
    });
    let dead = false;
    const gone = (err: Error): void => {
      if (dead) return;
      dead = true;
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
      this.count--;
      job?.reject(err);
      this.pump();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`image decode worker exited (code ${code})`)));
    return worker;
  }
}

let pool: DecodePool | undefined;

/** Decode, resize and normalise `bytes` in a worker thread. */
export function decodeInWorker(bytes: Uint8Array, label: string, options: DecodeJobOptions): Promise<DecodedImage> {
  pool ??= new DecodePool(Math.max(1, Math.min(2, availableParallelism())));
  return pool.run(bytes, label, options);
}
