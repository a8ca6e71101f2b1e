// Bindings to the CUDA driver API (libcuda.so.1) through koffi. Handles (contexts, streams,
// events, modules, functions, graphs) and device pointers cross the boundary as bigint
// addresses: the prototypes declare them uint64_t, which has the pointer's ABI on x86-64.
// Out-parameters are typed arrays. Every call is checked by `check`, which throws a
// CudaError naming the call and the driver's error string.
import koffi from 'koffi';
import { CudaError, CudaUnavailableError } from './errors.js';
import { loadLibrary } from './libraryLoader.js';

export type Handle = bigint;
export type DevicePtr = bigint;

// Selected CUdevice_attribute values (cuda.h).
export const DeviceAttribute = {
  maxThreadsPerBlock: 1,
  maxSharedMemoryPerBlock: 8,
  clockRateKHz: 13,
  multiprocessorCount: 16,
  memoryClockRateKHz: 36,
  globalMemoryBusWidth: 37,
  l2CacheSize: 38,
  computeCapabilityMajor: 75,
  computeCapabilityMinor: 76,
  maxSharedMemoryPerBlockOptin: 97,
} as const;

const CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
const CU_STREAM_NON_BLOCKING = 1;
const CU_EVENT_DEFAULT = 0;
const CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
const CUDA_ERROR_NO_DEVICE = 100;
const CUDA_ERROR_NOT_READY = 600;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;

const PROTOTYPES = {
  cuGetErrorString: 'int cuGetErrorString(int error, _Out_ const char **str)',
  cuGetErrorName: 'int cuGetErrorName(int error, _Out_ const char **str)',
  cuInit: 'int cuInit(unsigned int flags)',
  cuDriverGetVersion: 'int cuDriverGetVersion(void *version)',
  cuDeviceGetCount: 'int cuDeviceGetCount(void *count)',
  cuDeviceGet: 'int cuDeviceGet(void *device, int ordinal)',
  cuDeviceGetName: 'int cuDeviceGetName(void *name, int len, int dev)',
  cuDeviceGetAttribute: 'int cuDeviceGetAttribute(void *pi, int attrib, int dev)',
  cuDeviceTotalMem_v2: 'int cuDeviceTotalMem_v2(void *bytes, int dev)',
  cuDevicePrimaryCtxRetain: 'int cuDevicePrimaryCtxRetain(void *pctx, int dev)',
  cuDevicePrimaryCtxRelease_v2: 'int cuDevicePrimaryCtxRelease_v2(int dev)',
  cuCtxSetCurrent: 'int cuCtxSetCurrent(uint64_t ctx)',
  cuCtxSynchronize: 'int cuCtxSynchronize()',
  cuMemGetInfo_v2: 'int cuMemGetInfo_v2(void *free, void *total)',
  cuMemAlloc_v2: 'int cuMemAlloc_v2(void *dptr, size_t bytes)',
  cuMemFree_v2: 'int cuMemFree_v2(uint64_t dptr)',
  cuMemAllocHost_v2: 'int cuMemAllocHost_v2(_Out_ void **pp, size_t bytes)',
  cuMemFreeHost: 'int cuMemFreeHost(void *p)',
  cuMemcpyHtoD_v2: 'int cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t bytes)',
  cuMemcpyDtoH_v2: 'int cuMemcpyDtoH_v2(void *dst, uint64_t src, size_t bytes)',
  cuMemcpyDtoD_v2: 'int cuMemcpyDtoD_v2(uint64_t dst, uint64_t src, size_t bytes)',
  cuMemcpyHtoDAsync_v2: 'int cuMemcpyHtoDAsync_v2(uint64_t dst, const void *src, size_t bytes, uint64_t stream)',
  cuMemcpyDtoHAsync_v2: 'int cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t bytes, uint64_t stream)',
  cuMemcpyDtoDAsync_v2: 'int cuMemcpyDtoDAsync_v2(uint64_t dst, uint64_t src, size_t bytes, uint64_t stream)',
  cuMemsetD8Async: 'int cuMemsetD8Async(uint64_t dst, uint8_t value, size_t count, uint64_t stream)',
  cuMemsetD32Async: 'int cuMemsetD32Async(uint64_t dst, uint32_t value, size_t count, uint64_t stream)',
  cuStreamCreate: 'int cuStreamCreate(void *stream, unsigned int flags)',
  cuStreamDestroy_v2: 'int cuStreamDestroy_v2(uint64_t stream)',
  cuStreamSynchronize: 'int cuStreamSynchronize(uint64_t stream)',
  cuEventCreate: 'int cuEventCreate(void *event, unsigned int flags)',
  cuEventDestroy_v2: 'int cuEventDestroy_v2(uint64_t event)',
  cuEventRecord: 'int cuEventRecord(uint64_t event, uint64_t stream)',
  cuEventSynchronize: 'int cuEventSynchronize(uint64_t event)',
  cuEventQuery: 'int cuEventQuery(uint64_t event)',
  cuModuleLoadData: 'int cuModuleLoadData(void *module, const void *image)',
  cuModuleUnload: 'int cuModuleUnload(uint64_t module)',
  cuModuleGetFunction: 'int cuModuleGetFunction(void *fn, uint64_t module, const char *name)',
  cuFuncSetAttribute: 'int cuFuncSetAttribute(uint64_t fn, int attrib, int value)',
  cuLaunchKernel:
    'int cuLaunchKernel(uint64_t f, unsigned int gx, unsigned int gy, unsigned int gz, ' +
    'unsigned int bx, unsigned int by, unsigned int bz, unsigned int sharedMemBytes, ' +
    'uint64_t stream, uint64_t kernelParams, uint64_t extra)',
  cuStreamBeginCapture_v2: 'int cuStreamBeginCapture_v2(uint64_t stream, int mode)',
  cuStreamEndCapture: 'int cuStreamEndCapture(uint64_t stream, void *graph)',
  cuGraphInstantiateWithFlags: 'int cuGraphInstantiateWithFlags(void *exec, uint64_t graph, uint64_t flags)',
  cuGraphLaunch: 'int cuGraphLaunch(uint64_t exec, uint64_t stream)',
  cuGraphDestroy: 'int cuGraphDestroy(uint64_t graph)',
  cuGraphExecDestroy: 'int cuGraphExecDestroy(uint64_t exec)',
} as const;

type Name = keyof typeof PROTOTYPES;

export interface DeviceInfo {
  readonly ordinal: number;
  readonly name: string;
  readonly totalMemoryBytes: number;
  readonly computeCapability: readonly [number, number];
  /** NVRTC / nvcc architecture name: sm_90a on Hopper (wgmma), else sm_<major><minor>. */
  readonly arch: string;
  readonly multiprocessorCount: number;
  readonly l2CacheBytes: number;
  readonly maxSharedMemoryPerBlockOptin: number;
  readonly driverVersion: number;
}

export class CudaDriver {
  readonly libraryPath: string;
  private readonly fns: Record<Name, Fn>;
  private readonly elapsed: Fn;
  /** cuLaunchKernelEx (CUDA 12.0+), or null on an older driver. */
  private readonly fnLaunchEx: Fn | null;

  private constructor() {
    const { lib, path } = loadLibrary('CUDA driver', ['libcuda.so.1', 'libcuda.so']);
    this.libraryPath = path;
    const fns = {} as Record<Name, Fn>;
    for (const [name, proto] of Object.entries(PROTOTYPES) as [Name, string][]) {
      try {
        fns[name] = lib.func(proto) as Fn;
      } catch (err) {
        throw new CudaUnavailableError(
          `CUDA driver at ${path} lacks ${name} (driver too old?): ${(err as Error).message}`,
        );
      }
    }
    this.fns = fns;
    // CUDA 12.8+ drivers export cuEventElapsedTime_v2; older ones only the first version.
    let elapsed: Fn;
    try {
      elapsed = lib.func('int cuEventElapsedTime_v2(void *ms, uint64_t start, uint64_t end)') as Fn;
    } catch {
      elapsed = lib.func('int cuEventElapsedTime(void *ms, uint64_t start, uint64_t end)') as Fn;
    }
    this.elapsed = elapsed;
    const optional = (proto: string): Fn | null => {
      try {
        return lib.func(proto) as Fn;
      } catch {
        return null;
      }
    };
    this.fnLaunchEx = optional('int cuLaunchKernelEx(uint64_t config, uint64_t f, uint64_t kernelParams, uint64_t extra)');
  }

  /** Whether this driver can launch with programmatic stream serialization (cuLaunchKernelEx). */
  get hasProgrammaticLaunch(): boolean {
    return this.fnLaunchEx !== null;
  }

  private static instance: CudaDriver | null = null;

  /** Loads libcuda and runs cuInit once per process. */
  static get(): CudaDriver {
    if (!CudaDriver.instance) {
      const driver = new CudaDriver();
      const rc = driver.fns.cuInit(0) as number;
      if (rc === CUDA_ERROR_NO_DEVICE) {
        throw new CudaUnavailableError('cuInit: no CUDA-capable GPU is visible to the driver');
      }
      driver.check('cuInit', rc);
      CudaDriver.instance = driver;
    }
    return CudaDriver.instance;
  }

  errorString(code: number): string {
    const name: (string | null)[] = [null];
    const text: (string | null)[] = [null];
    this.fns.cuGetErrorName(code, name);
    this.fns.cuGetErrorString(code, text);
    return `${name[0] ?? 'CUDA_ERROR_UNKNOWN'}: ${text[0] ?? 'unrecognised error code'}`;
  }

  check(call: string, rc: number): void {
    if (rc !== 0) throw new CudaError(call, rc, this.errorString(rc));
  }

  private call(name: Name, ...args: unknown[]): void {
    this.check(name, this.fns[name](...args) as number);
  }

  private outHandle(name: Name, ...rest: unknown[]): bigint {
    const out = new BigUint64Array(1);
    this.call(name, out, ...rest);
    return out[0];
  }

  private outInt(name: Name, ...rest: unknown[]): number {
    const out = new Int32Array(1);
    this.call(name, out, ...rest);
    return out[0];
  }

  deviceCount(): number {
    return this.outInt('cuDeviceGetCount');
  }

  deviceInfo(ordinal: number): DeviceInfo {
    const count = this.deviceCount();
    if (ordinal < 0 || ordinal >= count) {
      throw new CudaUnavailableError(`CUDA device ${ordinal} requested but the driver sees ${count} device(s)`);
    }
    const dev = this.outInt('cuDeviceGet', ordinal);
    const nameBuf = Buffer.alloc(256);
    this.call('cuDeviceGetName', nameBuf, nameBuf.length, dev);
    const name = nameBuf.toString('utf8', 0, nameBuf.indexOf(0));
    const attr = (a: number): number => this.outInt('cuDeviceGetAttribute', a, dev);
    const major = attr(DeviceAttribute.computeCapabilityMajor);
    const minor = attr(DeviceAttribute.computeCapabilityMinor);
    const total = new BigUint64Array(1);
    this.call('cuDeviceTotalMem_v2', total, dev);
    return {
      ordinal,
      name,
      totalMemoryBytes: Number(total[0]),
      computeCapability: [major, minor],
      arch: major === 9 && minor === 0 ? 'sm_90a' : `sm_${major}${minor}`,
      multiprocessorCount: attr(DeviceAttribute.multiprocessorCount),
      l2CacheBytes: attr(DeviceAttribute.l2CacheSize),
      maxSharedMemoryPerBlockOptin: attr(DeviceAttribute.maxSharedMemoryPerBlockOptin),
      driverVersion: this.outInt('cuDriverGetVersion'),
    };
  }

  /** Retains the device's primary context and makes it current on this thread. */
  retainPrimaryContext(ordinal: number): Handle {
    const dev = this.outInt('cuDeviceGet', ordinal);
    const ctx = this.outHandle('cuDevicePrimaryCtxRetain', dev);
    this.call('cuCtxSetCurrent', ctx);
    return ctx;
  }

  releasePrimaryContext(ordinal: number): void {
    const dev = this.outInt('cuDeviceGet', ordinal);
    this.call('cuDevicePrimaryCtxRelease_v2', dev);
  }

  synchronize(): void {
    this.call('cuCtxSynchronize');
  }

  memInfo(): { freeBytes: number; totalBytes: number } {
    const free = new BigUint64Array(1);
    const total = new BigUint64Array(1);
    this.call('cuMemGetInfo_v2', free, total);
    return { freeBytes: Number(free[0]), totalBytes: Number(total[0]) };
  }

  malloc(bytes: number): DevicePtr {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`cuMemAlloc_v2: bad size ${bytes}`);
    return this.outHandle('cuMemAlloc_v2', bytes);
  }

  free(ptr: DevicePtr): void {
    this.call('cuMemFree_v2', ptr);
  }

  /** Page-locked host memory (for truly asynchronous copies): its address and a view of it. */
  mallocHost(bytes: number): { ptr: unknown; buffer: ArrayBuffer } {
    const out: unknown[] = [null];
    this.call('cuMemAllocHost_v2', out, bytes);
    return { ptr: out[0], buffer: koffi.view(out[0], bytes) };
  }

  freeHost(ptr: unknown): void {
    this.call('cuMemFreeHost', ptr);
  }

  copyHtoD(dst: DevicePtr, src: ArrayBufferView, stream?: Handle): void {
    if (stream === undefined) this.call('cuMemcpyHtoD_v2', dst, src, src.byteLength);
    else this.call('cuMemcpyHtoDAsync_v2', dst, src, src.byteLength, stream);
  }

  /** With a stream the copy is queued; `dst` must stay alive (and, for overlap, pinned). */
  copyDtoH(dst: ArrayBufferView, src: DevicePtr, stream?: Handle): void {
    if (stream === undefined) this.call('cuMemcpyDtoH_v2', dst, src, dst.byteLength);
    else this.call('cuMemcpyDtoHAsync_v2', dst, src, dst.byteLength, stream);
  }

  copyDtoD(dst: DevicePtr, src: DevicePtr, bytes: number, stream?: Handle): void {
    if (stream === undefined) this.call('cuMemcpyDtoD_v2', dst, src, bytes);
    else this.call('cuMemcpyDtoDAsync_v2', dst, src, bytes, stream);
  }

  memsetD8(dst: DevicePtr, value: number, bytes: number, stream: Handle = 0n): void {
    this.call('cuMemsetD8Async', dst, value, bytes, stream);
  }

  memsetD32(dst: DevicePtr, value: number, words: number, stream: Handle = 0n): void {
    this.call('cuMemsetD32Async', dst, value >>> 0, words, stream);
  }

  createStream(): Handle {
    return this.outHandle('cuStreamCreate', CU_STREAM_NON_BLOCKING);
  }

  destroyStream(stream: Handle): void {
    this.call('cuStreamDestroy_v2', stream);
  }

  streamSynchronize(stream: Handle): void {
    this.call('cuStreamSynchronize', stream);
  }

  createEvent(): Handle {
    return this.outHandle('cuEventCreate', CU_EVENT_DEFAULT);
  }

  destroyEvent(event: Handle): void {
    this.call('cuEventDestroy_v2', event);
  }

  recordEvent(event: Handle, stream: Handle): void {
    this.call('cuEventRecord', event, stream);
  }

  eventSynchronize(event: Handle): void {
    this.call('cuEventSynchronize', event);
  }

  /** True once the work recorded before `event` has finished; false while it runs. */
  eventDone(event: Handle): boolean {
    const rc = this.fns.cuEventQuery(event) as number;
    if (rc === CUDA_ERROR_NOT_READY) return false;
    this.check('cuEventQuery', rc);
    return true;
  }

  /** Milliseconds between two recorded, completed events. */
  elapsedMs(start: Handle, end: Handle): number {
    const out = new Float32Array(1);
    this.check('cuEventElapsedTime', this.elapsed(out, start, end) as number);
    return out[0];
  }

  loadModule(image: Uint8Array): Handle {
    return this.outHandle('cuModuleLoadData', image);
  }

  unloadModule(module: Handle): void {
    this.call('cuModuleUnload', module);
  }

  getFunction(module: Handle, name: string): Handle {
    const out = new BigUint64Array(1);
    const rc = this.fns.cuModuleGetFunction(out, module, name) as number;
    if (rc !== 0) throw new CudaError(`cuModuleGetFunction(${name})`, rc, this.errorString(rc));
    return out[0];
  }

  setMaxDynamicSharedMemory(fn: Handle, bytes: number): void {
    this.call('cuFuncSetAttribute', fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
  }

  /** `params` is the address of a native array of pointers to each argument (see launchArgs.ts). */
  launch(
    fn: Handle,
    grid: readonly [number, number, number],
    block: readonly [number, number, number],
    sharedBytes: number,
    stream: Handle,
    params: bigint,
    kernelName: string,
  ): void {
    const rc = this.fns.cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0], block[1], block[2], sharedBytes, stream, params, 0n) as number;
    if (rc !== 0) throw new CudaError(`cuLaunchKernel(${kernelName})`, rc, this.errorString(rc));
  }

  /** cuLaunchKernelEx with a packed CUlaunchConfig (launchArgs.ts packs it and its attributes).
   *  Requires hasProgrammaticLaunch. */
  launchEx(config: bigint, fn: Handle, params: bigint, kernelName: string): void {
    if (this.fnLaunchEx === null) throw new Error('cuLaunchKernelEx: not exported by this CUDA driver');
    const rc = this.fnLaunchEx(config, fn, params, 0n) as number;
    if (rc !== 0) throw new CudaError(`cuLaunchKernelEx(${kernelName})`, rc, this.errorString(rc));
  }

  beginCapture(stream: Handle): void {
    this.call('cuStreamBeginCapture_v2', stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  }

  endCapture(stream: Handle): Handle {
    const out = new BigUint64Array(1);
    this.call('cuStreamEndCapture', stream, out);
    return out[0];
  }

  instantiateGraph(graph: Handle): Handle {
    return this.outHandle('cuGraphInstantiateWithFlags', graph, 0n);
  }

  launchGraph(exec: Handle, stream: Handle): void {
    this.call('cuGraphLaunch', exec, stream);
  }

  destroyGraph(graph: Handle): void {
    this.call('cuGraphDestroy', graph);
  }

  destroyGraphExec(exec: Handle): void {
    this.call('cuGraphExecDestroy', exec);
  }
}
