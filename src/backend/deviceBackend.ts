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
}

export async function createDeviceBackend(device: string, options: DeviceBackendOptions = {}): Promise<Backend> {
  switch (device) {
    case 'cpu':
      return createCpuBackend({ threads: options.threads });
    case 'cuda':
      throw new BackendUnavailableError('CUDA backend not available in this build of tramontane: use --device cpu');
    default:
      throw new BackendUnavailableError(`unknown device '${device}' (expected one of: ${DEVICES.join(', ')})`);
  }
}
