// Whether this machine can run the CUDA backend: the driver library loads, cuInit succeeds and
// at least one GPU is visible. Loaded lazily (koffi and libcuda only when asked).
import { existsSync } from 'node:fs';

/** Why a machine with an NVIDIA driver cannot run the CUDA backend, else null (no driver: the
 *  CPU is the expected default, nothing to say). */
export async function cudaUnavailableReason(): Promise<string | null> {
  try {
    const { CudaDriver } = await import('./ffi/driver.js');
    return CudaDriver.get().deviceCount() > 0 ? null : 'no GPU is visible';
  } catch (err) {
    if (!existsSync('/proc/driver/nvidia/version')) return 'no NVIDIA driver';
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /koffi/.test(e.message ?? '')) return 'the koffi package is not installed (npm install koffi)';
    return e.message ?? String(err);
  }
}

export async function cudaDeviceAvailable(): Promise<boolean> {
  return (await cudaUnavailableReason()) === null;
}
