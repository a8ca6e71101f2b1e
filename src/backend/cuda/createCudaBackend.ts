// The CUDA backend behind a dynamic import, so the library entry loads koffi and the CUDA
// libraries only when a CUDA backend is asked for. koffi is an optional peer dependency (its
// install script would make npm warn every consumer, CPU-only ones included): when it is not
// installed, asking for CUDA says what to install.
import type { CudaBackend, CudaBackendOptions } from './cudaBackend.js';
import { CudaUnavailableError } from './ffi/errors.js';

/** The npm package the CUDA backend calls the driver through (an optional peer dependency). */
export const CUDA_FFI_PACKAGE = 'koffi';

function isMissingFfiPackage(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'ERR_MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${CUDA_FFI_PACKAGE}'`);
}

/** A CudaBackend on `options.device` (default 0). Rejects with CudaUnavailableError when the
 *  driver, NVRTC, a GPU or the koffi package is missing. */
export async function createCudaBackend(options: CudaBackendOptions = {}): Promise<CudaBackend> {
  let Impl: typeof import('./cudaBackend.js').CudaBackend;
  try {
    ({ CudaBackend: Impl } = await import('./cudaBackend.js'));
  } catch (err) {
    if (isMissingFfiPackage(err)) {
      throw new CudaUnavailableError(`the CUDA backend calls the driver through the '${CUDA_FFI_PACKAGE}' package, which is not installed: npm install ${CUDA_FFI_PACKAGE}`);
    }
    throw err;
  }
  return new Impl(options);
}
