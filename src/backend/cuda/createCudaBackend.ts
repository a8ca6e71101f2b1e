// The CUDA backend behind a dynamic import, so the library entry loads koffi and the CUDA
// libraries only when a CUDA backend is asked for.
import type { CudaBackend, CudaBackendOptions } from './cudaBackend.js';

/** A CudaBackend on `options.device` (default 0). Rejects with CudaUnavailableError when the
 *  driver, NVRTC or a GPU is missing. */
export async function createCudaBackend(options: CudaBackendOptions = {}): Promise<CudaBackend> {
  const { CudaBackend: Impl } = await import('./cudaBackend.js');
  return new Impl(options);
}
