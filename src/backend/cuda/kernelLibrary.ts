// Loads the .cu kernel files at run time: compiles each file once per process with NVRTC for
// the device's architecture (through the on-disk cache), loads the module and hands out
// launchable kernels by function name.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CudaDriver, Handle } from './ffi/driver.js';
import { KernelCache } from './ffi/kernelCache.js';
import { Kernel, type ArgType } from './ffi/launchArgs.js';
import { Nvrtc } from './ffi/nvrtc.js';

/** Where the .cu files are: TRAMONTANE_KERNEL_DIR, else src/backend/cuda/kernels of this package. */
export function kernelSourceDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env.TRAMONTANE_KERNEL_DIR,
    fileURLToPath(new URL('./kernels/', import.meta.url)),
    // compiled layout: dist/src/backend/cuda/*.js -> <package>/src/backend/cuda/kernels
    fileURLToPath(new URL('../../../../src/backend/cuda/kernels/', import.meta.url)),
  ].filter((d): d is string => Boolean(d));
  for (const dir of candidates) if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.cu'))) return dir;
  throw new Error(`CUDA kernel sources (*.cu) not found; looked in ${candidates.join(', ')} (set TRAMONTANE_KERNEL_DIR)`);
}

export interface CompileStats {
  readonly file: string;
  readonly fromCache: boolean;
  readonly compileMs: number;
}

export class KernelLibrary {
  private readonly modules = new Map<string, Handle>();
  private readonly kernels = new Map<string, Kernel>();
  private readonly headers: Map<string, string>;
  private readonly cache: KernelCache;
  readonly stats: CompileStats[] = [];

  constructor(
    private readonly driver: CudaDriver,
    readonly arch: string,
    readonly dir: string = kernelSourceDir(),
    cacheDir?: string,
    /** Launch every kernel with programmatic stream serialization (Kernel.programmatic). */
    readonly programmatic = false,
  ) {
    this.cache = new KernelCache(Nvrtc.get(), cacheDir);
    this.headers = new Map(
      readdirSync(dir)
        .filter((f) => f.endsWith('.cuh'))
        .map((f) => [f, readFileSync(`${dir}/${f}`, 'utf8')] as [string, string]),
    );
  }

  /** The .cu files present (each compiled on first use). */
  files(): string[] {
    return readdirSync(this.dir).filter((f) => f.endsWith('.cu')).sort();
  }

  /** Compiles (or loads from cache) and loads one file's module. */
  module(file: string): Handle {
    let mod = this.modules.get(file);
    if (mod === undefined) {
      const source = readFileSync(`${this.dir}/${file}`, 'utf8');
      const compiled = this.cache.get({ name: file, source, headers: this.headers, arch: this.arch });
      this.stats.push({ file, fromCache: compiled.fromCache, compileMs: compiled.compileMs });
      mod = this.driver.loadModule(compiled.cubin);
      this.modules.set(file, mod);
    }
    return mod;
  }

  kernel(file: string, name: string, argTypes: readonly ArgType[]): Kernel {
    const key = `${file}:${name}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = new Kernel(this.driver, this.driver.getFunction(this.module(file), name), name, argTypes, this.programmatic);
      this.kernels.set(key, k);
    }
    return k;
  }

  dispose(): void {
    for (const k of this.kernels.values()) k.dispose();
    for (const m of this.modules.values()) this.driver.unloadModule(m);
    this.kernels.clear();
    this.modules.clear();
  }
}
