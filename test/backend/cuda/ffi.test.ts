// FFI behaviour that holds on any machine, GPU or not: a missing library or an absent
// driver is a clear CudaUnavailableError, never a crash; kernel cache keys follow the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLibrary, librarySearchDirs } from '../../../src/backend/cuda/ffi/libraryLoader.js';
import { CudaUnavailableError } from '../../../src/backend/cuda/ffi/errors.js';
import { CudaDriver } from '../../../src/backend/cuda/ffi/driver.js';
import { kernelCacheKey, defaultKernelCacheDir } from '../../../src/backend/cuda/ffi/kernelCache.js';

test('a missing library names itself, the names tried and CUDA_HOME', () => {
  assert.throws(
    () => loadLibrary('Frobnicator', ['libfrobnicator-does-not-exist.so.7']),
    (err: unknown) =>
      err instanceof CudaUnavailableError &&
      err.message.includes('Frobnicator library not found') &&
      err.message.includes('libfrobnicator-does-not-exist.so.7') &&
      err.message.includes('CUDA_HOME'),
  );
});

test('library search covers CUDA_HOME, LD_LIBRARY_PATH and the standard install', () => {
  const dirs = librarySearchDirs({ CUDA_HOME: '/opt/cuda-x', LD_LIBRARY_PATH: '/a/lib:/b/lib' });
  assert.equal(dirs[0], '/opt/cuda-x/lib64');
  assert.ok(dirs.includes('/a/lib') && dirs.includes('/b/lib'));
  assert.ok(dirs.includes('/usr/local/cuda/lib64'));
  assert.ok(dirs.indexOf('/opt/cuda-x/lib64') < dirs.indexOf('/a/lib'));
});

test('the driver either initialises or fails with CudaUnavailableError (no GPU here is fine)', () => {
  let driver: CudaDriver | null = null;
  try {
    driver = CudaDriver.get();
  } catch (err) {
    assert.ok(err instanceof CudaUnavailableError, `expected CudaUnavailableError, got ${String(err)}`);
    assert.match((err as Error).message, /CUDA driver|no CUDA-capable GPU/);
    return;
  }
  assert.ok(driver.deviceCount() >= 1);
});

test('kernel cache keys change with source, header, arch and compiler version', () => {
  const base = { name: 'x.cu', source: 'extern "C" __global__ void k() {}', arch: 'sm_90a', headers: new Map([['common.cuh', 'A']]) };
  const k0 = kernelCacheKey(base, '13.0');
  assert.equal(k0, kernelCacheKey({ ...base }, '13.0'));
  assert.notEqual(k0, kernelCacheKey({ ...base, source: base.source + ' ' }, '13.0'));
  assert.notEqual(k0, kernelCacheKey({ ...base, headers: new Map([['common.cuh', 'B']]) }, '13.0'));
  assert.notEqual(k0, kernelCacheKey({ ...base, arch: 'sm_80' }, '13.0'));
  assert.notEqual(k0, kernelCacheKey(base, '12.9'));
  assert.match(defaultKernelCacheDir({ HOME: '/h' }), /tramontane\/kernels$/);
  assert.equal(defaultKernelCacheDir({ TRAMONTANE_KERNEL_CACHE: '/k' }), '/k');
});

test('createCudaBackend from the library entry gives a backend or a CudaUnavailableError', async () => {
  const { createCudaBackend, CudaUnavailableError: Unavailable } = await import('../../../src/index.js');
  try {
    const b = await createCudaBackend();
    assert.equal(b.name, 'cuda');
    await b.close();
  } catch (err) {
    assert.ok(err instanceof Unavailable, `expected CudaUnavailableError, got ${String(err)}`);
  }
});
