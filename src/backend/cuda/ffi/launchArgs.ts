// Packs kernel arguments for cuLaunchKernel: one 8-byte native slot per argument and a
// native array of pointers to the slots (the `void **kernelParams` the driver reads).
// The driver copies the values at launch (and into a graph node at capture), so one
// block of native memory per kernel is reused by every launch of it.
import koffi from 'koffi';
import type { CudaDriver, Handle } from './driver.js';

/** ptr: a device address (bigint); i32/u32: 32-bit integers; f32: a float; i64: a 64-bit integer. */
export type ArgType = 'ptr' | 'i32' | 'u32' | 'f32' | 'i64';
export type ArgValue = bigint | number;

export interface LaunchDims {
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, number, number];
  readonly sharedBytes?: number;
}

/** Bytes of dynamic shared memory a launch may use without raising the function's limit. */
const DEFAULT_DYNAMIC_SHARED_LIMIT = 48 * 1024;

// cuLaunchKernelEx's CUlaunchConfig (cuda.h): grid x/y/z, block x/y/z, sharedMemBytes (u32 at
// 0..24), hStream @32, attrs @40, numAttrs @48: 56 bytes; then our one CUlaunchAttribute
// (@56: id u32, 4 bytes pad, a 64-byte value union @64): 72 bytes.
const CONFIG_BYTES = 56;
const ATTRIBUTE_BYTES = 72;
const CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

export class Kernel {
  private readonly slots: unknown;
  private readonly view: DataView;
  private readonly paramsAddress: bigint;
  /** The CUlaunchConfig block of programmatic launches (null: plain cuLaunchKernel). */
  private readonly config: { readonly block: unknown; readonly view: DataView; readonly address: bigint } | null;
  /** Dynamic shared memory this function is allowed so far (the driver's default limit). */
  private maxDynamicShared = DEFAULT_DYNAMIC_SHARED_LIMIT;

  constructor(
    private readonly driver: CudaDriver,
    readonly fn: Handle,
    readonly name: string,
    readonly argTypes: readonly ArgType[],
    /** Launch with programmatic stream serialization (Hopper+): the kernel's CTAs may start
     *  while the previous kernel in the stream runs, so its source must begin with pdl_entry()
     *  (kernels/common.cuh). */
    readonly programmatic = false,
  ) {
    const n = Math.max(1, argTypes.length);
    this.slots = koffi.alloc('uint64_t', 2 * n);
    this.view = new DataView(koffi.view(this.slots, 16 * n));
    const base = koffi.address(this.slots);
    for (let i = 0; i < argTypes.length; i++) {
      this.view.setBigUint64(8 * (n + i), base + BigInt(8 * i), true);
    }
    this.paramsAddress = base + BigInt(8 * n);
    if (programmatic) {
      const block = koffi.alloc('uint64_t', (CONFIG_BYTES + ATTRIBUTE_BYTES) / 8);
      const view = new DataView(koffi.view(block, CONFIG_BYTES + ATTRIBUTE_BYTES));
      const address = koffi.address(block);
      view.setBigUint64(40, address + BigInt(CONFIG_BYTES), true); // attrs
      view.setUint32(48, 1, true); // numAttrs
      view.setUint32(CONFIG_BYTES, CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, true);
      view.setInt32(CONFIG_BYTES + 8, 1, true); // value.programmaticStreamSerializationAllowed
      this.config = { block, view, address };
    } else {
      this.config = null;
    }
  }

  launch(dims: LaunchDims, stream: Handle, args: readonly ArgValue[]): void {
    const types = this.argTypes;
    if (args.length !== types.length) {
      throw new TypeError(`kernel ${this.name} takes ${types.length} arguments, got ${args.length}`);
    }
    for (let i = 0; i < types.length; i++) {
      const v = args[i];
      const at = 8 * i;
      switch (types[i]) {
        case 'ptr':
        case 'i64':
          this.view.setBigInt64(at, typeof v === 'bigint' ? v : BigInt(v), true);
          break;
        case 'i32':
          this.view.setInt32(at, Number(v), true);
          break;
        case 'u32':
          this.view.setUint32(at, Number(v), true);
          break;
        case 'f32':
          this.view.setFloat32(at, Number(v), true);
          break;
      }
    }
    for (const d of [...dims.grid, ...dims.block]) {
      if (!Number.isInteger(d) || d < 1) {
        throw new RangeError(`kernel ${this.name}: bad launch dimensions grid=${dims.grid} block=${dims.block}`);
      }
    }
    const shared = dims.sharedBytes ?? 0;
    if (shared > this.maxDynamicShared) {
      // Above 48 KB the function must opt in (cuFuncSetAttribute), once per size it grows to.
      this.driver.setMaxDynamicSharedMemory(this.fn, shared);
      this.maxDynamicShared = shared;
    }
    if (this.config === null) {
      this.driver.launch(this.fn, dims.grid, dims.block, shared, stream, this.paramsAddress, this.name);
      return;
    }
    const v = this.config.view;
    for (let i = 0; i < 3; i++) {
      v.setUint32(4 * i, dims.grid[i], true);
      v.setUint32(12 + 4 * i, dims.block[i], true);
    }
    v.setUint32(24, shared, true);
    v.setBigUint64(32, stream, true);
    this.driver.launchEx(this.config.address, this.fn, this.paramsAddress, this.name);
  }

  dispose(): void {
    koffi.free(this.slots);
    if (this.config !== null) koffi.free(this.config.block);
  }
}
