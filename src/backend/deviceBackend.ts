// The one place a device name becomes a backend. A new device is a new case here and a new
// folder beside cpu/.
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
  /** CUDA: device ordinal (default 0). */
  readonly cudaDevice?: number;
}

/** 'cuda' when a CUDA driver and a GPU are present, else 'cpu' (the `--device` default). */
export async function defaultDevice(): Promise<DeviceName> {
  const { cudaDeviceAvailable } = await import('./cuda/probe.js');
  return (await cudaDeviceAvailable()) ? 'cuda' : 'cpu';
}

export async function createDeviceBackend(device: string, options: DeviceBackendOptions = {}): Promise<Backend> {
  switch (device) {
    case 'cpu':
      return createCpuBackend({ threads: options.threads });
    case 'cuda': {
      const { createCudaBackend } = await import('./cuda/createCudaBackend.js');
      try {
        return await createCudaBackend({ device: options.cudaDevice });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'CudaUnavailableError') throw new BackendUnavailableError(`CUDA backend not available: ${e.message} (use --device cpu)`);
        throw err;
      }
    }
    default:
      throw new BackendUnavailableError(`unknown device '${device}' (expected one of: ${DEVICES.join(', ')})`);
  }
}
