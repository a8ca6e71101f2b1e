// NVRTC bindings: compiles a CUDA C++ source to a cubin for one architecture. The
// compiler log is captured and thrown on failure (KernelCompileError).
import { CudaError, KernelCompileError } from './errors.js';
import { loadLibrary } from './libraryLoader.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;

export interface CompileRequest {
  /** Label for logs and errors, e.g. "rmsnorm.cu". */
  readonly name: string;
  readonly source: string;
  /** Headers the source #includes by name: include name -> contents. */
  readonly headers?: ReadonlyMap<string, string>;
  /** e.g. "sm_90a". */
  readonly arch: string;
  readonly extraOptions?: readonly string[];
}

export class Nvrtc {
  readonly libraryPath: string;
  readonly version: string;
  private readonly fn: Record<string, Fn>;

  private constructor() {
    const { lib, path } = loadLibrary('NVRTC', ['libnvrtc.so.13', 'libnvrtc.so.12', 'libnvrtc.so']);
    this.libraryPath = path;
    this.fn = {
      errorString: lib.func('const char *nvrtcGetErrorString(int result)') as Fn,
      version: lib.func('int nvrtcVersion(void *major, void *minor)') as Fn,
      create: lib.func(
        'int nvrtcCreateProgram(void *prog, const char *src, const char *name, int numHeaders, const char **headers, const char **includeNames)',
      ) as Fn,
      destroy: lib.func('int nvrtcDestroyProgram(void *prog)') as Fn,
      compile: lib.func('int nvrtcCompileProgram(uint64_t prog, int numOptions, const char **options)') as Fn,
      logSize: lib.func('int nvrtcGetProgramLogSize(uint64_t prog, void *size)') as Fn,
      log: lib.func('int nvrtcGetProgramLog(uint64_t prog, void *log)') as Fn,
      cubinSize: lib.func('int nvrtcGetCUBINSize(uint64_t prog, void *size)') as Fn,
      cubin: lib.func('int nvrtcGetCUBIN(uint64_t prog, void *cubin)') as Fn,
    };
    const major = new Int32Array(1);
    const minor = new Int32Array(1);
    this.check('nvrtcVersion', this.fn.version(major, minor) as number);
    this.version = `${major[0]}.${minor[0]}`;
  }

  private static instance: Nvrtc | null = null;

  static get(): Nvrtc {
    Nvrtc.instance ??= new Nvrtc();
    return Nvrtc.instance;
  }

  private check(call: string, rc: number): void {
    if (rc !== 0) throw new CudaError(call, rc, String(this.fn.errorString(rc)));
  }

  /** The options every kernel is compiled with (also part of the cache key). */
  static options(arch: string, extra: readonly string[] = []): string[] {
    return [`--gpu-architecture=${arch}`, '--std=c++17', ...extra];
  }

  /** Compiles to a cubin; throws KernelCompileError with the log when NVRTC rejects it. */
  compile(req: CompileRequest): Uint8Array {
    const headers = [...(req.headers ?? new Map<string, string>()).entries()];
    const progOut = new BigUint64Array(1);
    this.check(
      'nvrtcCreateProgram',
      this.fn.create(progOut, req.source, req.name, headers.length, headers.map((h) => h[1]), headers.map((h) => h[0])) as number,
    );
    const prog = progOut[0];
    try {
      const options = Nvrtc.options(req.arch, req.extraOptions);
      const rc = this.fn.compile(prog, options.length, options) as number;
      const log = this.readLog(prog);
      if (rc !== 0) {
        throw new KernelCompileError(req.name, `${String(this.fn.errorString(rc))} (options: ${options.join(' ')})\n${log}`);
      }
      const size = new BigUint64Array(1);
      this.check('nvrtcGetCUBINSize', this.fn.cubinSize(prog, size) as number);
      const cubin = new Uint8Array(Number(size[0]));
      this.check('nvrtcGetCUBIN', this.fn.cubin(prog, cubin) as number);
      return cubin;
    } finally {
      this.fn.destroy(progOut);
    }
  }

  private readLog(prog: bigint): string {
    const size = new BigUint64Array(1);
    this.check('nvrtcGetProgramLogSize', this.fn.logSize(prog, size) as number);
    const buf = Buffer.alloc(Number(size[0]));
    if (buf.length > 0) this.check('nvrtcGetProgramLog', this.fn.log(prog, buf) as number);
    const end = buf.indexOf(0);
    return buf.toString('utf8', 0, end < 0 ? buf.length : end).trim();
  }
}
