// Finds and loads a shared library by its usual names, then in CUDA_HOME / CUDA_PATH,
// the directories of LD_LIBRARY_PATH and the standard CUDA install locations.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { CudaUnavailableError } from './errors.js';

export type NativeLibrary = ReturnType<typeof koffi.load>;

/** Directories searched after the plain dlopen lookup, in order. */
export function librarySearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  for (const root of [env.CUDA_HOME, env.CUDA_PATH]) {
    if (root) dirs.push(join(root, 'lib64'), join(root, 'lib'), join(root, 'targets', 'x86_64-linux', 'lib'));
  }
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(':')) if (dir) dirs.push(dir);
  dirs.push('/usr/local/cuda/lib64', '/usr/local/nvidia/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64');
  return [...new Set(dirs)];
}

/**
 * Loads the first of `names` that opens (each tried by plain name, then in every search dir).
 * `what` is a human label ("CUDA driver") for the error when none loads.
 */
export function loadLibrary(what: string, names: readonly string[]): { lib: NativeLibrary; path: string } {
  const failures: string[] = [];
  const candidates: string[] = [...names];
  for (const dir of librarySearchDirs()) {
    for (const name of names) {
      const path = join(dir, name);
      if (existsSync(path)) candidates.push(path);
    }
  }
  for (const path of candidates) {
    try {
      return { lib: koffi.load(path), path };
    } catch (err) {
      failures.push(`${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new CudaUnavailableError(
    `${what} library not found (tried ${names.join(', ')} by name and in CUDA_HOME, CUDA_PATH, ` +
      `LD_LIBRARY_PATH and /usr/local/cuda/lib64). Install the ${what} library or set CUDA_HOME.` +
      (failures.length ? `\n  ${failures.slice(0, 6).join('\n  ')}` : ''),
  );
}
