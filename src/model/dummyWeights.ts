// `--load-format dummy` (as vLLM's): a WeightSource that invents every tensor of a ModelConfig
// from a seed, lazily, one tensor per get(). Used to run and benchmark the full-size model
// without its 48 GB checkpoint. docs/dummy-weights.md describes the generator and its sources.
//
// THE GENERATOR (a CUDA kernel and tools/reference/dummy_weights.py reproduce it bit-exactly;
// all arithmetic on unsigned 32-bit integers wraps mod 2^32, `>>` is a logical shift):
//
//   mix32(x):  x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
//              (Chris Wellons' "lowbias32" integer hash; a bijection on 32 bits)
//   fnv1a32(s): h = 0x811c9dc5; for each UTF-8 byte b of s: h ^= b; h *= 0x01000193
//   key(seed, name)  = mix32(fnv1a32(name) ^ mix32(seed))       seed: uint32, name: canonical
//   bits(key, i)     = mix32(mix32(i ^ key) + key)              i: element index, row-major, < 2^32
//   s(key, i)        = float32((int32)(bits >> 8) - 8388608) * 2^-23      exact, in [-1, 1)
//   value(key, i)    = float32(offset + float32(scale * s))      two separately rounded f32 ops
//                                                               (no FMA: __fmul_rn, __fadd_rn)
//   stored           = value rounded to bf16 to nearest, ties to even (__float2bfloat16_rn),
//                      or the f32 value itself for dtype 'f32'
//
// scale and offset per tensor (fanIn = product of all dims but the first; scale is the double
// gain * sqrt(3 / fanIn) rounded once to float32, so the uniform law has std gain / sqrt(fanIn)):
//   1-D tensors (every RMSNorm weight):   offset 1, scale 0.2f      -> values in [0.8, 1.2)
//   tok_embeddings:                       offset 0, scale 1         -> values in [-1, 1)
//   output (lm_head):                     offset 0, gain 8          -> logits with std ~8, so the
//                                                                      argmax is well separated
//   every other matrix / conv kernel:     offset 0, gain 1          -> activations keep their scale
//                                                                      through 40 pre-norm layers
import type { DummyFillSpec } from '../backend/dummyFill.js';
import type { ModelConfig, WeightDType } from './config.js';
import { CheckpointError } from './checkpointError.js';
import { expectedShapes } from './weightNames.js';
import type { HostTensor, WeightSource } from './weights.js';

export type { DummyFillSpec };

export const DEFAULT_DUMMY_SEED = 0;
const OUTPUT_GAIN = 8;
const NORM_OFFSET = 1;
const NORM_SCALE = Math.fround(0.2);

export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b);
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The 32-bit stream key of one named tensor. */
export function dummyTensorKey(seed: number, name: string): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`dummy weight seed must be an integer in [0, 2^32), got ${seed}`);
  return mix32((fnv1a32(name) ^ mix32(seed)) >>> 0);
}

/** s(key, i): a uniform float32 in [-1, 1) with 24 random bits. */
export function dummyUniform(key: number, index: number): number {
  const bits = mix32((mix32((index ^ key) >>> 0) + key) >>> 0);
  return ((bits >>> 8) - 8388608) * 2 ** -23;
}

/** How one dummy tensor is filled (distribution and key), from the seed and its name. */
export function dummyFillSpec(seed: number, name: string, shape: readonly number[]): DummyFillSpec {
  const key = dummyTensorKey(seed, name);
  if (shape.length === 1) return { name, shape, key, scale: NORM_SCALE, offset: NORM_OFFSET };
  if (name === 'tok_embeddings') return { name, shape, key, scale: 1, offset: 0 };
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const gain = name === 'output' ? OUTPUT_GAIN : 1;
  return { name, shape, key, scale: Math.fround(gain * Math.sqrt(3 / fanIn)), offset: 0 };
}

/** Fills `out` with elements [start, start + out.length) of the tensor as float32 values. */
export function fillDummyF32(spec: DummyFillSpec, out: Float32Array, start = 0): void {
  const { key, scale, offset } = spec;
  for (let j = 0; j < out.length; j++) {
    out[j] = Math.fround(offset + Math.fround(scale * dummyUniform(key, start + j)));
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 -> bf16 bits, round to nearest even (values here are finite). */
export function f32ToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0];
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Fills `out` with bf16 bit patterns of elements [start, start + out.length). */
export function fillDummyBf16(spec: DummyFillSpec, out: Uint16Array, start = 0): void {
  const { key, scale, offset } = spec;
  for (let j = 0; j < out.length; j++) {
    f32Scratch[0] = Math.fround(offset + Math.fround(scale * dummyUniform(key, start + j)));
    const u = u32Scratch[0];
    out[j] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
  }
}

/** Options of DummyWeightSource: seed and dtype. */
export interface DummyWeightOptions {
  readonly seed?: number; // default 0
  /** Stored dtype; default the config's dtype when it is bf16 or f32, else bf16. */
  readonly dtype?: 'bf16' | 'f32';
}

/** A WeightSource with seeded pseudo-random tensors; nothing is generated before get(). */
export class DummyWeightSource implements WeightSource {
  readonly config: ModelConfig;
  readonly seed: number;
  readonly dtype: 'bf16' | 'f32';
  private readonly shapes: ReadonlyMap<string, readonly number[]>;

  constructor(config: ModelConfig, options: DummyWeightOptions = {}) {
    this.seed = options.seed ?? DEFAULT_DUMMY_SEED;
    dummyTensorKey(this.seed, ''); // validates the seed
    this.dtype = options.dtype ?? (config.dtype === 'f32' ? 'f32' : 'bf16');
    // Dummy weights are dense whatever the config's quantization says (FP8 comes from
    // `quantization: 'fp8'`, which quantizes them at load time).
    const { quantization: _files, ...dense } = config;
    this.config = { ...dense, dtype: this.dtype as WeightDType };
    this.shapes = expectedShapes(this.config);
    for (const [name, shape] of this.shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      if (n > 2 ** 32) throw new CheckpointError(`dummy weight ${name} has ${n} elements: the generator indexes elements with 32 bits`);
    }
  }

  names(): readonly string[] {
    return [...this.shapes.keys()];
  }

  /** Whether the config has a tensor of this name. */
  has(name: string): boolean {
    return this.shapes.has(name);
  }

  /** Shape, key, scale and offset of one tensor: all a device kernel needs to fill it. */
  fillSpec(name: string): DummyFillSpec {
    const shape = this.shapes.get(name);
    if (!shape) throw new CheckpointError(`no weight ${name} in the dummy model (seed ${this.seed})`);
    return dummyFillSpec(this.seed, name, shape);
  }

  async get(name: string): Promise<HostTensor> {
    const spec = this.fillSpec(name);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    let data: Uint8Array;
    if (this.dtype === 'bf16') {
      const bits = new Uint16Array(n);
      fillDummyBf16(spec, bits);
      data = new Uint8Array(bits.buffer);
    } else {
      const values = new Float32Array(n);
      fillDummyF32(spec, values);
      data = new Uint8Array(values.buffer);
    }
    return { name, dtype: this.dtype, shape: spec.shape, data };
  }

  /** Nothing to release: tensors are generated on demand. */
  async close(): Promise<void> {}
}
