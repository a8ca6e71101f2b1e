// Whether this machine can run the CUDA backend: the driver library loads, cuInit succeeds and
// at least one GPU is visible. Loaded lazily (koffi and libcuda only when asked).
export async function cudaDeviceAvailable(): Promise<boolean> {
  try {
    const { CudaDriver } = await import('./ffi/driver.js');
    return CudaDriver.get().deviceCount() > 0;
  } catch {
    return false;
  }
}
