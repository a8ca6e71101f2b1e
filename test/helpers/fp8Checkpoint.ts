// Tiny FP8 checkpoints written by the tests themselves from the tiny reference models
// (test/fixtures/models/tiny-*/{hf,mistral}): the text decoder's linear weights quantized with
// the E4M3 encoder of src/backend/fp8E4m3.ts (round to nearest even, saturating at 448, checked
// against a decoder of all 256 codes in test/backend/fp8E4m3.test.ts), in each format the
// loader reads, beside a dense F32 checkpoint holding exactly the dequantized values
// (f32(e4m3 * scale)) as the reference a correct loader must reproduce bit for bit.
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeToF32 } from '../../src/backend/dtypeConvert.js';
import { E4M3_MAX, E4M3_VALUES, f32ToE4m3, quantizeRowsFp8 } from '../../src/backend/fp8E4m3.js';
import { SafetensorsFile } from '../../src/model/safetensorsFile.js';
import { f32ToBf16Bits } from '../../src/model/dummyWeights.js';
import { fixture } from './paths.js';
import { writeSafetensors, type TensorToWrite } from './safetensors.js';

/** compressed-tensors per-channel weights + dynamic per-token activations (RedHat FP8-dynamic),
 *  compressed-tensors per-tensor weights + static input scales, Mistral fp8_e4m3 with static
 *  (TENSOR) or no (NO_SCALES) activation scales. */
export type Fp8Variant = 'ct-channel' | 'ct-tensor-static' | 'mistral-tensor' | 'mistral-noscales';
export const FP8_VARIANTS: readonly Fp8Variant[] = ['ct-channel', 'ct-tensor-static', 'mistral-tensor', 'mistral-noscales'];

export const layoutOf = (v: Fp8Variant): 'hf' | 'mistral' => (v.startsWith('mistral') ? 'mistral' : 'hf');

const HF_TEXT_LINEAR = /^(language_model\.model|model\.language_model)\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/;
const MISTRAL_TEXT_LINEAR = /^layers\.\d+\.(attention\.w[qkvo]|feed_forward\.w[123])\.weight$/;

/** What RedHat's FP8-dynamic config.json of Mistral Small 3.1 says (llm-compressor output). */
export function compressedTensorsConfig(strategy: 'channel' | 'tensor', activations: 'dynamic' | 'static'): Record<string, unknown> {
  const args = (s: string, dynamic: boolean) => ({ num_bits: 8, type: 'float', symmetric: true, group_size: null, strategy: s, block_structure: null, dynamic, actorder: null, observer: dynamic ? null : 'minmax', observer_kwargs: {} });
  return {
    quant_method: 'compressed-tensors',
    format: 'float-quantized',
    quantization_status: 'compressed',
    global_compression_ratio: null,
    kv_cache_scheme: null,
    config_groups: {
      group_0: {
        targets: ['Linear'],
        weights: args(strategy, false),
        input_activations: activations === 'dynamic' ? args('token', true) : args('tensor', false),
        output_activations: null,
      },
    },
    ignore: ['language_model.lm_head', 're:vision_tower.*', 're:multi_modal_projector.*'],
  };
}

export interface Tensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Every tensor of a fixture directory's safetensors files, in file and header order. */
export async function readAllTensors(dir: string): Promise<Tensor[]> {
  const out: Tensor[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort()) {
    const file = await SafetensorsFile.open(join(dir, f));
    for (const name of file.names()) out.push({ name, dtype: file.entry(name).dtype, shape: file.entry(name).shape, data: (await file.read(name)).data });
    await file.close();
  }
  return out;
}

export function valuesOf(t: Tensor): Float32Array {
  const v = new Float32Array(t.shape.reduce((a, d) => a * d, 1));
  decodeToF32(t.data, t.dtype === 'BF16' ? 'bf16' : t.dtype === 'F16' ? 'f16' : 'f32', v);
  return v;
}

const f32Tensor = (name: string, shape: readonly number[], v: Float32Array): TensorToWrite => ({ name, dtype: 'F32', shape, data: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) });
const bf16 = (x: number) => new Float32Array(new Uint32Array([f32ToBf16Bits(x) << 16]).buffer)[0];

/** One weight quantized as `variant` stores it: codes, per-row scales (for the reference), and
 *  the scale tensor(s) to write beside it. */
function quantize(t: Tensor, variant: Fp8Variant): { codes: Uint8Array; rowScales: Float32Array; extra: TensorToWrite[] } {
  const [rows, cols] = t.shape;
  const v = valuesOf(t);
  const module = t.name.slice(0, -'.weight'.length);
  if (variant === 'ct-channel') {
    // Scales stored as BF16 (as the model dtype), so quantize with the rounded scale.
    const scales = quantizeRowsFp8(v, rows, cols).scales.map(bf16);
    const codes = new Uint8Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) codes[r * cols + c] = f32ToE4m3(Math.fround(v[r * cols + c] / scales[r]));
    const bits = Uint16Array.from(scales, f32ToBf16Bits);
    return { codes, rowScales: scales, extra: [{ name: `${module}.weight_scale`, dtype: 'BF16', shape: [rows, 1], data: new Uint8Array(bits.buffer) }] };
  }
  let absmax = 0;
  for (const x of v) absmax = Math.max(absmax, Math.abs(x));
  const scale = Math.fround(absmax / E4M3_MAX);
  const codes = Uint8Array.from(v, (x) => f32ToE4m3(Math.fround(x / scale)));
  const rowScales = new Float32Array(rows).fill(scale);
  const inputScale = Math.fround(0.0123); // any positive value: validated, then activations are scaled per token
  if (variant === 'ct-tensor-static') {
    return { codes, rowScales, extra: [f32Tensor(`${module}.weight_scale`, [1], new Float32Array([scale])), f32Tensor(`${module}.input_scale`, [1], new Float32Array([inputScale]))] };
  }
  const extra = [f32Tensor(`${module}.qscale_weight`, [], new Float32Array([scale]))];
  if (variant === 'mistral-tensor') extra.push(f32Tensor(`${module}.qscale_act`, [], new Float32Array([inputScale])));
  return { codes, rowScales, extra };
}

export interface WrittenFp8 {
  /** The FP8 checkpoint directory and the dense F32 one with its dequantized weights. */
  readonly fp8Dir: string;
  readonly denseDir: string;
}

/**
 * Writes `variant` of fixture model `model` into `<root>/fp8` and its dequantized dense twin into
 * `<root>/dense`. `edit` may change the FP8 tensors and config before they are written (for
 * refusal tests); the dense twin is always the faithful one.
 */
export async function writeFp8Checkpoint(
  model: 'tiny-a' | 'tiny-b',
  variant: Fp8Variant,
  root: string,
  edit?: { tensors?: (ts: TensorToWrite[]) => TensorToWrite[]; config?: (c: Record<string, unknown>) => void },
): Promise<WrittenFp8> {
  const layout = layoutOf(variant);
  const src = fixture('models', model, layout);
  const isLinear = layout === 'hf' ? HF_TEXT_LINEAR : MISTRAL_TEXT_LINEAR;
  const fp8: TensorToWrite[] = [];
  const dense: TensorToWrite[] = [];
  for (const t of await readAllTensors(src)) {
    if (!isLinear.test(t.name)) {
      fp8.push(t);
      dense.push(t);
      continue;
    }
    const q = quantize(t, variant);
    fp8.push({ name: t.name, dtype: 'F8_E4M3', shape: t.shape, data: q.codes }, ...q.extra);
    const cols = t.shape[1];
    const deq = Float32Array.from(q.codes, (c, i) => E4M3_VALUES[c] * q.rowScales[Math.floor(i / cols)]);
    dense.push(f32Tensor(t.name, t.shape, deq));
  }
  const configName = layout === 'hf' ? 'config.json' : 'params.json';
  const weightsName = layout === 'hf' ? 'model.safetensors' : 'consolidated.safetensors';
  const fp8Dir = join(root, 'fp8');
  const denseDir = join(root, 'dense');
  const config = JSON.parse(await readFile(join(src, configName), 'utf8')) as Record<string, unknown>;
  await cp(src, denseDir, { recursive: true, filter: (p) => !p.endsWith('.safetensors') && !p.endsWith('.index.json') });
  await writeSafetensors(join(denseDir, weightsName), dense);
  const quantized = { ...config };
  if (variant === 'ct-channel') quantized.quantization_config = compressedTensorsConfig('channel', 'dynamic');
  else if (variant === 'ct-tensor-static') quantized.quantization_config = compressedTensorsConfig('tensor', 'static');
  else quantized.quantization = { qformat_weight: 'fp8_e4m3', qscheme_act: variant === 'mistral-tensor' ? 'TENSOR' : 'NO_SCALES' };
  edit?.config?.(quantized);
  await cp(src, fp8Dir, { recursive: true, filter: (p) => !p.endsWith('.safetensors') && !p.endsWith('.index.json') });
  await writeFile(join(fp8Dir, configName), JSON.stringify(quantized, null, 2));
  await writeSafetensors(join(fp8Dir, weightsName), edit?.tensors ? edit.tensors(fp8) : fp8);
  return { fp8Dir, denseDir };
}

/**
 * The dense twin of online quantization (`quantization: 'fp8'`) of fixture `model` (HF layout):
 * every text linear replaced by f32 of its per-row quantize-dequantize (absmax / 448 scales in
 * f32, src/backend/fp8E4m3.ts), written to `<root>/online-twin`.
 */
export async function writeOnlineTwin(model: 'tiny-a' | 'tiny-b', root: string): Promise<string> {
  const src = fixture('models', model, 'hf');
  const out = join(root, 'online-twin');
  const tensors = (await readAllTensors(src)).map((t): TensorToWrite => {
    if (!HF_TEXT_LINEAR.test(t.name)) return t;
    const [rows, cols] = t.shape;
    const q = quantizeRowsFp8(valuesOf(t), rows, cols);
    return f32Tensor(t.name, t.shape, Float32Array.from(q.codes, (c, i) => E4M3_VALUES[c] * q.scales[Math.floor(i / cols)]));
  });
  await cp(src, out, { recursive: true, filter: (p) => !p.endsWith('.safetensors') && !p.endsWith('.index.json') });
  await writeSafetensors(join(out, 'model.safetensors'), tensors);
  return out;
}
