// The one place a device name becomes a backend. A new device is a new case here and a new
// folder beside cpu/ and cuda/.
import type { Backend } from './backend.js';
import { createCpuBackend } from './cpu/cpuBackend.js';

/** Every device name a backend exists for. */
export const DEVICES = ['cpu', 'cuda'] as const;
export type DeviceName = (typeof DEVICES)[number];

/** The asked-for device cannot run here (unknown name, or CUDA missing); the message says what is missing. */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

export interface DeviceBackendOptions {
  /** CPU: matmul threads (default: every core). */
  readonly threads?: number;
  /** CUDA: wait for the GPU in cuStreamSynchronize instead of polling (A/B measurements). */
  readonly cudaBlockingWait?: boolean;
  /** CUDA: the split-K gemv threshold (CudaBackendOptions.gemvSplitKMaxN). */
  readonly gemvSplitKMaxN?: number;
  /** CUDA: CudaContextOptions.programmaticLaunch (default on where supported). */
  readonly cudaProgrammaticLaunch?: boolean;
  /** CUDA: CudaBackendOptions.fp8Bf16GemvMaxRows. */
  readonly fp8Bf16GemvMaxRows?: number;
  /** CUDA: CudaBackendOptions.fp8WeightPreload. */
  readonly fp8WeightPreload?: boolean;
  /** CUDA: CudaBackendOptions.fp8SplitKBytes. */
  readonly fp8SplitKBytes?: number;
  /** CUDA: CudaBackendOptions.fp8SkinnyKernel. */
  readonly fp8SkinnyKernel?: 'mma' | 'gemv';
}

/** What the engine plans around, per device. */
export interface DeviceTraits {
  /** The KV cache and weights live in the host's memory (size the cache modestly). */
  readonly hostMemory: boolean;
  /** Ops run on the calling thread: run the model off the event loop so HTTP stays live. */
  readonly blocksCallingThread: boolean;
}

/** 'cuda' when a CUDA driver and a GPU are present, else 'cpu' (the `--device` default). A
 *  machine with an NVIDIA driver that falls back to the CPU says why on stderr, once. */
export async function defaultDevice(): Promise<DeviceName> {
  const { cudaUnavailableReason } = await import('./cuda/probe.js');
  const reason = await cudaUnavailableReason();
  if (reason === null) return 'cuda';
  if (reason !== 'no NVIDIA driver' && !fallbackNoticeShown) {
    fallbackNoticeShown = true;
    process.stderr.write(`tramontane: an NVIDIA driver is present but the CUDA backend cannot start (${reason}); using the CPU\n`);
  }
  return 'cpu';
}

let fallbackNoticeShown = false;

export function deviceTraits(device: string): DeviceTraits {
  switch (device) {
    case 'cpu':
      return { hostMemory: true, blocksCallingThread: true };
    case 'cuda':
      return { hostMemory: false, blocksCallingThread: false };
    default:
      throw new BackendUnavailableError(`unknown device '${device}' (expected one of: ${DEVICES.join(', ')})`);
  }
}

/** The backend for a device name ('cpu' or 'cuda'); BackendUnavailableError when it cannot run here. */
export async function createDeviceBackend(device: string, options: DeviceBackendOptions = {}): Promise<Backend> {
  switch (device) {
    case 'cpu':
      return createCpuBackend({ threads: options.threads });
    case 'cuda': {
      // Loaded on demand: koffi and the CUDA libraries only when a GPU is asked for.
      const { createCudaBackend } = await import('./cuda/createCudaBackend.js');
      try {
        return await createCudaBackend({ blockingWait: options.cudaBlockingWait, programmaticLaunch: options.cudaProgrammaticLaunch, fp8SplitKBytes: options.fp8SplitKBytes, fp8WeightPreload: options.fp8WeightPreload, fp8Bf16GemvMaxRows: options.fp8Bf16GemvMaxRows, gemvSplitKMaxN: options.gemvSplitKMaxN, fp8SkinnyKernel: options.fp8SkinnyKernel });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'CudaUnavailableError') throw new BackendUnavailableError(`CUDA backend not available: ${e.message}`);
        throw err;
      }
    }
    default:
      throw new BackendUnavailableError(`unknown device '${device}' (expected one of: ${DEVICES.join(', ')})`);
  }
}
