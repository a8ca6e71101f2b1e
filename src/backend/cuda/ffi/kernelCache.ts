// Compiles kernel sources with NVRTC, caching each cubin on disk under a key made of the
// source, its headers, the compile options, the architecture and the NVRTC version, so a
// changed kernel or a different GPU never reuses a stale binary.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Nvrtc, type CompileRequest } from './nvrtc.js';

export function defaultKernelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRAMONTANE_KERNEL_CACHE) return env.TRAMONTANE_KERNEL_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tramontane', 'kernels');
}

export function kernelCacheKey(req: CompileRequest, nvrtcVersion: string): string {
  const h = createHash('sha256');
  h.update(`nvrtc ${nvrtcVersion}\0arch ${req.arch}\0opts ${Nvrtc.options(req.arch, req.extraOptions).join(' ')}\0`);
  h.update(req.source);
  for (const [name, text] of [...(req.headers ?? new Map<string, string>()).entries()].sort()) {
    h.update(`\0header ${name}\0${text}`);
  }
  return h.digest('hex');
}

export interface CompiledKernel {
  readonly cubin: Uint8Array;
  readonly fromCache: boolean;
  readonly compileMs: number;
}

export class KernelCache {
  constructor(
    private readonly nvrtc: Nvrtc,
    readonly dir: string = defaultKernelCacheDir(),
  ) {}

  get(req: CompileRequest): CompiledKernel {
    const key = kernelCacheKey(req, this.nvrtc.version);
    const file = join(this.dir, `${req.name.replace(/[^A-Za-z0-9_.-]/g, '_')}-${req.arch}-${key.slice(0, 24)}.cubin`);
    if (existsSync(file)) {
      return { cubin: new Uint8Array(readFileSync(file)), fromCache: true, compileMs: 0 };
    }
    const t0 = performance.now();
    const cubin = this.nvrtc.compile(req);
    const compileMs = performance.now() - t0;
    try {
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, cubin);
      renameSync(tmp, file); // atomic: concurrent processes never read a half-written cubin
    } catch {
      // An unwritable cache only costs a recompile next time.
    }
    return { cubin, fromCache: false, compileMs };
  }
}
