// Errors raised by the CUDA FFI layer. Every failing call names itself and carries the
// library's own error string, so a failure reads like "cuMemAlloc_v2: out of memory (2)".

/** A CUDA driver, NVRTC or cuBLASLt call failed; the message names the call and the error code. */
export class CudaError extends Error {
  constructor(
    /** The C function that failed, e.g. "cuLaunchKernel". */
    readonly call: string,
    /** The library's status code (CUresult, nvrtcResult, cublasStatus_t). */
    readonly code: number,
    detail: string,
  ) {
    super(`${call}: ${detail} (${code})`);
    this.name = 'CudaError';
  }
}

/** A CUDA library could not be found or loaded, or no usable GPU is present. */
export class CudaUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CudaUnavailableError';
  }
}

/** NVRTC rejected a kernel source; `log` is the compiler's full log. */
export class KernelCompileError extends Error {
  constructor(
    readonly source: string,
    readonly log: string,
  ) {
    super(`NVRTC failed to compile ${source}:\n${log}`);
    this.name = 'KernelCompileError';
  }
}
