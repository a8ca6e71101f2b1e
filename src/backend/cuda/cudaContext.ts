// One GPU as the CUDA backend uses it: the driver, the device's primary context, one stream,
// the kernel library (NVRTC for the device's arch), cuBLASLt, and growable scratch buffers
// for per-call metadata (sized once for the largest call, so a steady decode loop allocates
// nothing).
import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { CudaDriver, type DeviceInfo, type DevicePtr, type Handle } from './ffi/driver.js';
import { CublasLt } from './ffi/cublasLt.js';
import { KernelLibrary } from './kernelLibrary.js';


export interface CudaContextOptions {
  readonly device?: number;
  readonly kernelCacheDir?: string;
  /** Wait for the GPU in cuStreamSynchronize (blocking the thread) instead of polling an event
   *  between event-loop turns; for A/B measurements (TRAMONTANE_CUDA_BLOCKING_WAIT=1 at the
   *  composition root). Default false. */
  readonly blockingWait?: boolean;
  /** Launch kernels with programmatic dependent launch (each kernel's CTAs start while the one
   *  before it finishes; kernels/common.cuh's pdl_entry). Default: on for compute capability
   *  9.0+ when the driver has cuLaunchKernelEx. false for A/B measurements
   *  (TRAMONTANE_PDL=0 at the composition root). */
  readonly programmaticLaunch?: boolean;
}

export class CudaContext {
  readonly driver: CudaDriver;
  readonly info: DeviceInfo;
  readonly stream: Handle;
  readonly kernels: KernelLibrary;
  private blas: CublasLt | null = null;
  private readonly scratch = new Map<string, { ptr: DevicePtr; bytes: number }>();
  private readonly retired: DevicePtr[] = [];
  private closed = false;
  private idleEvent: Handle | null = null;
  private readonly blockingWait: boolean;
  /** Whether kernels launch with programmatic dependent launch (CudaContextOptions). */
  readonly programmaticLaunch: boolean;
  /** A kernel that writes weights was queued since the stream was last seen idle. */
  private weightWritesInFlight = false;

  constructor(options: CudaContextOptions = {}) {
    this.driver = CudaDriver.get();
    const ordinal = options.device ?? 0;
    this.blockingWait = options.blockingWait ?? false;
    this.info = this.driver.deviceInfo(ordinal);
    this.driver.retainPrimaryContext(ordinal);
    this.stream = this.driver.createStream();
    const pdlCapable = this.info.computeCapability[0] >= 9 && this.driver.hasProgrammaticLaunch;
    this.programmaticLaunch = pdlCapable && (options.programmaticLaunch ?? true);
    this.kernels = new KernelLibrary(this.driver, this.info.arch, undefined, options.kernelCacheDir, this.programmaticLaunch);
  }

  /** cuBLASLt's autotuned shapes so far, without creating the handle (null before first use). */
  cublasAutotuned(): readonly unknown[] | null {
    return this.blas?.autotuned ?? null;
  }

  /** cuBLASLt, created on first use (it allocates its workspace). */
  get cublas(): CublasLt {
    this.blas ??= new CublasLt(this.driver);
    return this.blas;
  }

  /** A device buffer of at least `bytes` for the named purpose, reused across calls. The
   *  previous contents are stream-ordered: later writes queue behind earlier kernels. A
   *  buffer outgrown is kept (not freed) until close, since graphs may have recorded it. */
  scratchBuffer(name: string, bytes: number): DevicePtr {
    const have = this.scratch.get(name);
    if (have && have.bytes >= bytes) return have.ptr;
    // The old buffer stays allocated until close: a captured graph may still point at it.
    if (have) this.retired.push(have.ptr);
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
    const ptr = this.driver.malloc(size);
    this.scratch.set(name, { ptr, bytes: size });
    return ptr;
  }

  /** Copies host data into a named scratch buffer (stream-ordered) and returns its address. */
  upload(name: string, data: ArrayBufferView): DevicePtr {
    const ptr = this.scratchBuffer(name, Math.max(4, data.byteLength));
    if (data.byteLength > 0) this.driver.copyHtoD(ptr, data, this.stream);
    return ptr;
  }

  /** Called when a kernel that writes weight bytes is queued (dummy fill, device quantization):
   *  until the stream is next seen idle, kernels must not read weights ahead of their wait. */
  noteWeightWrite(): void {
    this.weightWritesInFlight = true;
  }

  /** Whether a kernel queued now may read weights before its programmatic-launch wait: every
   *  kernel that wrote weights has finished (the stream was idle since), so no early start can
   *  overlap one. */
  get weightsSettled(): boolean {
    return this.programmaticLaunch && !this.weightWritesInFlight;
  }

  /** Blocks until the stream has run everything queued so far. Every wait for this stream goes
   *  through here or whenIdle, which is how weightsSettled learns the stream was idle. */
  synchronize(): void {
    this.driver.streamSynchronize(this.stream);
    this.sawIdle();
  }

  /** The stream has run everything queued so far (a synchronize or an idle event returned). */
  private sawIdle(): void {
    this.weightWritesInFlight = false;
  }

  /** Resolves once the stream has run everything queued so far, letting the event loop turn
   *  while the GPU works (a server's HTTP, SSE and the engine's output processing overlap the
   *  step) instead of blocking the thread in cuStreamSynchronize. */
  async whenIdle(): Promise<void> {
    if (this.blockingWait) return this.synchronize();
    this.idleEvent ??= this.driver.createEvent();
    this.driver.recordEvent(this.idleEvent, this.stream);
    while (!this.driver.eventDone(this.idleEvent)) await nextLoopTurn();
    this.sawIdle();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.driver.streamSynchronize(this.stream);
    if (this.idleEvent !== null) this.driver.destroyEvent(this.idleEvent);
    for (const s of this.scratch.values()) this.driver.free(s.ptr);
    for (const p of this.retired.splice(0)) this.driver.free(p);
    this.scratch.clear();
    this.blas?.dispose();
    this.kernels.dispose();
    this.driver.destroyStream(this.stream);
    this.driver.releasePrimaryContext(this.info.ordinal);
  }
}
