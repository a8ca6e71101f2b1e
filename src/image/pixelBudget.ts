// Bounds on decoded pixels: one request's images together (and their tokens, known from the
// headers before anything is decoded), and every request's decodes in flight on the server.
import { ImageError } from './errors.js';

/** A counting semaphore over pixels: a decode waits until its pixels fit under the capacity. */
export class PixelSemaphore {
  private used = 0;
  private readonly queue: { pixels: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`PixelSemaphore: capacity must be a positive integer, got ${capacity}`);
  }

  get inUse(): number {
    return this.used;
  }

  /** Resolves with a release function once `pixels` fit; rejects if `signal` fires first. */
  acquire(pixels: number, signal?: AbortSignal): Promise<() => void> {
    const want = Math.min(pixels, this.capacity);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.used -= want;
      this.drain();
    };
    if (this.queue.length === 0 && this.used + want <= this.capacity) {
      this.used += want;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const entry = {
        pixels: want,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        this.drain();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  private drain(): void {
    while (this.queue.length > 0 && this.used + this.queue[0].pixels <= this.capacity) {
      const next = this.queue.shift()!;
      this.used += next.pixels;
      next.grant();
    }
  }
}

/** One request's images: their tokens must fit the context, their pixels a budget. */
export class RequestImageBudget {
  private tokens = 0;
  private pixels = 0;

  constructor(
    /** Image tokens the request may hold (the context length). */
    readonly maxTokens: number,
    /** Decoded pixels of all the request's images together. */
    readonly maxPixels: number,
    /** The server's decode semaphore (null: no server-wide bound). */
    readonly server: PixelSemaphore | null,
  ) {}

  /** Counts an image (from its header) against the budget, then waits for the server's; the
   *  result releases the server's share when the decode is done. */
  async reserve(label: string, width: number, height: number, tokens: number, signal?: AbortSignal): Promise<() => void> {
    this.tokens += tokens;
    this.pixels += width * height;
    if (this.tokens > this.maxTokens) {
      throw new ImageError(label, `the request's images need ${this.tokens} tokens so far, more than the maximum context length of ${this.maxTokens}`);
    }
    if (this.pixels > this.maxPixels) {
      throw new ImageError(label, `image is ${width}x${height}; the request's images hold ${this.pixels} pixels so far, over the limit of ${this.maxPixels} per request (--max-image-pixels-per-request)`);
    }
    return this.server ? this.server.acquire(width * height, signal) : () => undefined;
  }
}
