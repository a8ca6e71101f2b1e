// The CUDA backend's WeightSink: page-locked staging buffers (cuMemAllocHost, viewed from JS
// without a copy), so file reads land in memory the copy engine reads directly, and
// asynchronous host-to-device copies on a stream of their own, which overlap the next reads
// (the compute stream is left alone). A write resolves when its copy has finished reading the
// staging range (an event per write, polled between event-loop turns). bf16 ranges are copied
// as they are; f16/f32 ranges are converted to bf16 on the host first, exactly as uploadWeight
// does.
import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { WEIGHT_DTYPE_BYTES, type WeightDType } from '../hostTensor.js';
import type { DeviceTensor, WeightSink } from '../backend.js';
import { decodeToF32 } from '../dtypeConvert.js';
import type { CudaContext } from './cudaContext.js';
import { asCuda, f32ToBf16 } from './cudaTensor.js';
import type { Handle } from './ffi/driver.js';

const WIDTH = WEIGHT_DTYPE_BYTES;

export class CudaWeightSink implements WeightSink {
  private readonly stream: Handle;
  private readonly hostBuffers: unknown[] = [];
  private readonly idleEvents: Handle[] = [];
  private readonly allEvents: Handle[] = [];
  private started = false;
  private closed = false;

  constructor(
    private readonly ctx: CudaContext,
    private readonly alloc: (shape: readonly number[]) => DeviceTensor,
  ) {
    this.stream = ctx.driver.createStream();
  }

  allocWeight(shape: readonly number[]): DeviceTensor {
    if (this.started) throw new Error('CudaWeightSink: allocWeight after the first write');
    return this.alloc(shape);
  }

  stagingBuffers(count: number, bytes: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const { ptr, buffer } = this.ctx.driver.mallocHost(bytes);
      this.hostBuffers.push(ptr);
      out.push(new Uint8Array(buffer));
    }
    return out;
  }

  async write(dst: DeviceTensor, offset: number, src: Uint8Array, dtype: WeightDType): Promise<void> {
    const t = asCuda(dst, 'weight', 'bf16');
    // FP8 codes mean nothing without their scales: they reach the device through uploadLinear.
    if (dtype === 'f8_e4m3') throw new Error('weight write of f8_e4m3 codes into a bf16 tensor: FP8 weights go through uploadLinear');
    const count = src.byteLength / WIDTH[dtype];
    if (!Number.isInteger(count) || offset < 0 || offset + count > t.numel) {
      throw new Error(`weight write of ${src.byteLength} bytes of ${dtype} at element ${offset} overflows a tensor of ${t.numel}`);
    }
    const d = this.ctx.driver;
    if (!this.started) {
      // Allocations may have queued work on the compute stream (poisoning in tests): let it
      // finish before copies on this stream land in the same memory.
      this.ctx.synchronize();
      this.started = true;
    }
    const at = t.ptr + BigInt(offset * 2);
    if (dtype !== 'bf16') {
      // Pageable source: the driver has staged it by the time the call returns.
      const f = new Float32Array(count);
      decodeToF32(src, dtype, f);
      d.copyHtoD(at, f32ToBf16(f), this.stream);
      return;
    }
    d.copyHtoD(at, src, this.stream);
    const event = this.idleEvents.pop() ?? this.newEvent();
    d.recordEvent(event, this.stream);
    try {
      while (!d.eventDone(event)) await nextLoopTurn();
    } finally {
      this.idleEvents.push(event);
    }
  }

  private newEvent(): Handle {
    const e = this.ctx.driver.createEvent();
    this.allEvents.push(e);
    return e;
  }

  async finish(): Promise<void> {
    const event = this.idleEvents.pop() ?? this.newEvent();
    this.ctx.driver.recordEvent(event, this.stream);
    while (!this.ctx.driver.eventDone(event)) await nextLoopTurn();
    this.idleEvents.push(event);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const d = this.ctx.driver;
    d.streamSynchronize(this.stream);
    for (const p of this.hostBuffers.splice(0)) d.freeHost(p);
    for (const e of this.allEvents.splice(0)) d.destroyEvent(e);
    d.destroyStream(this.stream);
  }
}
