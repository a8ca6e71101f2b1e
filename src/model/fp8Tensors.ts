// An FP8 checkpoint's tensors checked against its quantization config (src/model/quantization.ts)
// from the safetensors headers alone, before any weight byte is read, and its FP8 linears read
// as Fp8HostWeights (E4M3 data + one f32 scale per row). For each linear layer the config
// quantizes: data F8_E4M3, a weight scale of the scheme's shape ([out, 1] or [out] per channel,
// [] or [1] per tensor) in F32/BF16/F16, and for static activations a per-tensor input scale.
// Everything else is dense, holds no scale, and is refused when it says otherwise.
import type { Fp8HostWeight } from '../backend/backend.js';
import { decodeToF32 } from '../backend/dtypeConvert.js';
import { CheckpointError } from './checkpointError.js';
import { fp8SchemeOf, type Fp8Quantization, type Fp8Scheme } from './quantization.js';
import { mistralToHfRows } from './ropePermute.js';
import { readableDType, type SafetensorsFile } from './safetensorsFile.js';
import { isLinearWeightName } from './weightNames.js';

export interface Located {
  readonly file: SafetensorsFile;
  readonly diskName: string;
}

/** The scale tensors found beside one weight (canonical name -> roles). */
export interface FoundScales {
  weight?: Located;
  input?: Located;
}

export interface Fp8Located {
  readonly scheme: Fp8Scheme;
  readonly weightScale: Located;
  readonly inputScale: Located | null;
}

const SCALE_DTYPES = new Set(['F32', 'BF16', 'F16']);
const where = (l: Located) => `${l.diskName} in ${l.file.path}`;
const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

function checkScale(l: Located, okShapes: readonly (readonly number[])[], what: string): void {
  const e = l.file.entry(l.diskName);
  if (!SCALE_DTYPES.has(e.dtype)) throw new CheckpointError(`scale ${where(l)} is ${e.dtype}: ${what} scales must be F32, BF16 or F16`);
  if (!okShapes.some((s) => s.length === e.shape.length && s.every((d, i) => d === e.shape[i]))) {
    throw new CheckpointError(`scale ${where(l)} has shape ${shapeText(e.shape)}; a ${what} scale here is ${okShapes.map(shapeText).join(' or ')}`);
  }
}

/**
 * Checks every located tensor and scale against `quant` (null: the config declares none) and
 * returns the FP8 linears by canonical name. `configPath` names the config in messages.
 */
export function checkFp8Layout(
  quant: Fp8Quantization | null,
  located: ReadonlyMap<string, Located>,
  scales: ReadonlyMap<string, FoundScales>,
  configPath: string,
): Map<string, Fp8Located> {
  const fp8 = new Map<string, Fp8Located>();
  for (const [canonical, at] of located) {
    const e = at.file.entry(at.diskName);
    const module = at.diskName.endsWith('.weight') ? at.diskName.slice(0, -'.weight'.length) : at.diskName;
    const linear = isLinearWeightName(canonical);
    const scheme = quant && linear ? fp8SchemeOf(quant, module) : null;
    if (e.dtype !== 'F8_E4M3') {
      if (scheme) throw new CheckpointError(`tensor ${where(at)} is ${e.dtype} but ${quant!.declaredIn} quantizes ${module} to FP8: expected F8_E4M3 data`);
      continue;
    }
    if (!quant) throw new CheckpointError(`tensor ${where(at)} is F8_E4M3 (FP8) but ${configPath} declares no quantization (quantization_config or quantization) to say how to scale it`);
    if (!linear) throw new CheckpointError(`tensor ${where(at)} is F8_E4M3 (FP8): only linear layers' weights may be FP8 (${canonical} is not one; lm_head, embeddings, norms and the patch conv stay dense)`);
    if (!scheme) throw new CheckpointError(`tensor ${where(at)} is F8_E4M3 (FP8) but ${quant.declaredIn} leaves ${module} unquantized (ignored, or no config group targets it)`);
    const s = scales.get(canonical) ?? {};
    if (!s.weight) throw new CheckpointError(`missing scale ${module}${quant.weightScaleSuffix} for the FP8 weight ${where(at)}`);
    const rows = e.shape[0];
    checkScale(s.weight, scheme.weights === 'channel' ? [[rows, 1], [rows]] : [[], [1]], scheme.weights === 'channel' ? 'per-channel weight' : 'per-tensor weight');
    if (scheme.activations === 'static') {
      if (!s.input) throw new CheckpointError(`missing scale ${module}${quant.inputScaleSuffix} for the FP8 weight ${where(at)}: ${quant.declaredIn} declares static input scales`);
      checkScale(s.input, [[], [1]], 'per-tensor input');
    } else if (s.input) {
      throw new CheckpointError(`unexpected tensor ${where(s.input)}: ${quant.declaredIn} declares dynamic activation scales, so there is no input scale`);
    }
    fp8.set(canonical, { scheme, weightScale: s.weight, inputScale: s.input ?? null });
  }
  for (const [canonical, s] of scales) {
    if (fp8.has(canonical)) continue;
    const stray = (s.weight ?? s.input)!;
    const owner = located.get(canonical);
    throw new CheckpointError(`unexpected tensor ${where(stray)}: ${owner ? `${owner.diskName} is not an FP8 weight` : `no weight ${canonical} holds it`}`);
  }
  return fp8;
}

/** Reads an FP8 linear: its data (rows moved to rotate-half order when `ropeHeads` is set,
 *  as for Mistral-layout wq/wk) and its weight scale, broadcast to one per row. */
export async function readFp8(name: string, at: Located, fp8: Fp8Located, ropeHeads: number | null): Promise<Fp8HostWeight> {
  const raw = await at.file.read(at.diskName);
  const rows = raw.shape[0];
  const scaleRaw = await fp8.weightScale.file.read(fp8.weightScale.diskName);
  const given = new Float32Array(scaleRaw.shape.reduce((a, d) => a * d, 1));
  decodeToF32(scaleRaw.data, readableDType(fp8.weightScale.file.entry(fp8.weightScale.diskName).dtype, fp8.weightScale.diskName, fp8.weightScale.file.path), given);
  given.forEach((v, i) => {
    if (!(v > 0 && Number.isFinite(v))) throw new CheckpointError(`scale ${where(fp8.weightScale)} holds ${v} at element ${i}: scales must be positive and finite`);
  });
  let scales: Float32Array = given.length === rows ? given : new Float32Array(rows).fill(given[0]);
  let data = raw.data;
  if (ropeHeads !== null) {
    data = mistralToHfRows(data, rows, ropeHeads);
    if (given.length === rows) scales = new Float32Array(mistralToHfRows(new Uint8Array(scales.buffer), rows, ropeHeads).buffer);
  }
  return { data: { name, dtype: 'f8_e4m3', shape: raw.shape, data }, scales };
}
