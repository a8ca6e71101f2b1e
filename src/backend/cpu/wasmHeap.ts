// One shared WebAssembly memory holding every CPU tensor, so the WASM SIMD matmul (on the main
// thread and in the workers) reads and writes tensors in place. First-fit allocation with
// coalescing free ranges; the memory grows on demand up to wasm32's 4 GiB.
const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB
const ALIGN = 64;

interface Range {
  start: number;
  size: number;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  private readonly free: Range[] = []; // sorted by start
  private end = ALIGN; // first byte never handed out (offset 0 stays unused)
  private liveBytes = 0;

  constructor(initialBytes = 16 * PAGE) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / PAGE), maximum: MAX_PAGES, shared: true });
  }

  get bytesInUse(): number {
    return this.liveBytes;
  }

  /** Byte offset of `bytes` fresh bytes (contents unspecified). */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.liveBytes += size;
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i];
      if (r.size < size) continue;
      const start = r.start;
      r.start += size;
      r.size -= size;
      if (r.size === 0) this.free.splice(i, 1);
      return start;
    }
    const start = this.end;
    const needed = start + size;
    const have = this.memory.buffer.byteLength;
    if (needed > have) {
      const pages = Math.ceil((needed - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        this.liveBytes -= size;
        throw new Error(`cpu backend: ${bytes} more bytes would pass the 4 GiB that its WebAssembly memory can hold (in use: ${this.liveBytes})`);
      }
      // Grow by at least 1/8 of the current size to keep the number of grows small.
      this.memory.grow(Math.max(pages, Math.min(MAX_PAGES - have / PAGE, Math.ceil(have / PAGE / 8))));
    }
    this.end = needed;
    return start;
  }

  release(start: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.liveBytes -= size;
    let i = 0;
    while (i < this.free.length && this.free[i].start < start) i++;
    this.free.splice(i, 0, { start, size });
    // coalesce with the next, then the previous
    const r = this.free[i];
    const next = this.free[i + 1];
    if (next && r.start + r.size === next.start) {
      r.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.start + prev.size === r.start) {
      prev.size += r.size;
      this.free.splice(i, 1);
    }
    // give the tail back to the bump pointer
    const last = this.free[this.free.length - 1];
    if (last && last.start + last.size === this.end) {
      this.end = last.start;
      this.free.pop();
    }
  }

  f32(start: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, start, length);
  }

  i32(start: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, start, length);
  }
}

let cachedModule: WebAssembly.Module | null = null;

export function matmulModule(base64: string): WebAssembly.Module {
  cachedModule ??= new WebAssembly.Module(Buffer.from(base64, 'base64'));
  return cachedModule;
}
