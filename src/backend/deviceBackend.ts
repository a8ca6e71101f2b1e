// The one place a device name becomes a backend. A new device is a new case here and a new
// folder beside cpu/ and cuda/.
import type { Backend } from './backend.js';
import { createCpuBackend } from './cpu/cpuBackend.js';

export const DEVICES = ['cpu', 'cuda'] as const;
export type DeviceName = (typeof DEVICES)[number];

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
  /** CUDA: CudaBackendOptions.fp8GemvShortRowMaxK. */
  readonly fp8GemvShortRowMaxK?: number;
}

/** What the engine plans around, per device. */
export interface DeviceTraits {
  /** The KV cache and weights live in the host's memory (size the cache modestly). */
  readonly hostMemory: boolean;
  /** Ops run on the calling thread: run the model off the event loop so HTTP stays live. */
  readonly blocksCallingThread: boolean;
}

/** 'cuda' when a CUDA driver and a GPU are present, else 'cpu' (the `--device` default). */
export async function defaultDevice(): Promise<DeviceName> {
  const { cudaDeviceAvailable } = await import('./cuda/probe.js');
  return (await cudaDeviceAvailable()) ? 'cuda' : 'cpu';
}

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

export async function createDeviceBackend(device: string, options: DeviceBackendOptions = {}): Promise<Backend> {
  switch (device) {
    case 'cpu':
      return createCpuBackend({ threads: options.threads });
    case 'cuda': {
      // Loaded on demand: koffi and the CUDA libraries only when a GPU is asked for.
      const { createCudaBackend } = await import('./cuda/createCudaBackend.js');
      try {
        return await createCudaBackend({ blockingWait: options.cudaBlockingWait, gemvSplitKMaxN: options.gemvSplitKMaxN, fp8GemvShortRowMaxK: options.fp8GemvShortRowMaxK });
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
