// Moves a checkpoint's weights (canonical names, src/model/weights.ts) onto a backend, in the
// shapes the network code uses: gate and up projections fused into one [2*inter, hidden]
// matrix (the input siluAndMul expects), q/k/v projections fused into one
// [(heads + 2*kvHeads)*hd, d] matrix (one decode matmul; wq/wk/wv are views of its rows), the
// patch conv as a [vHidden, 3*p*p] matrix. Dummy weights are generated on the device when the
// backend can (Backend.createDummyWeight), else on the host and uploaded.
import type { Backend, DeviceTensor } from '../backend/backend.js';
import { DummyWeightSource } from './dummyWeights.js';
import type { HostTensor, WeightSource } from './weights.js';

export interface LayerWeights {
  readonly attentionNorm: DeviceTensor; // [d]
  readonly wqkv: DeviceTensor; // [(heads + 2*kvHeads)*hd, d]: wq rows, wk rows, wv rows
  readonly wq: DeviceTensor; // [heads*hd, d], a view of wqkv
  readonly wk: DeviceTensor; // [kvHeads*hd, d], a view of wqkv
  readonly wv: DeviceTensor; // [kvHeads*hd, d], a view of wqkv
  readonly wo: DeviceTensor; // [d, heads*hd]
  readonly ffnNorm: DeviceTensor; // [d]
  readonly w13: DeviceTensor; // [2*inter, d]: gate rows, then up rows
  readonly w2: DeviceTensor; // [d, inter]
}

export interface TextWeights {
  readonly embeddings: DeviceTensor; // [vocab, d]
  readonly layers: readonly LayerWeights[];
  readonly norm: DeviceTensor; // [d]
  readonly output: DeviceTensor; // [vocab, d]
}

export interface VisionWeights {
  readonly patchConv: DeviceTensor; // [vHidden, 3*p*p], input patch flattened (channel, y, x)
  readonly lnPre: DeviceTensor; // [vHidden]
  readonly layers: readonly LayerWeights[];
}

export interface ProjectorWeights {
  readonly norm: DeviceTensor | null; // [vHidden]
  readonly patchMerger: DeviceTensor; // [vHidden, vHidden*merge²]
  readonly linear1: DeviceTensor; // [hidden, vHidden]
  readonly linear2: DeviceTensor; // [hidden, hidden]
}

export interface ModelWeights {
  readonly text: TextWeights;
  readonly vision: VisionWeights | null;
  readonly projector: ProjectorWeights | null;
  /** Every tensor uploaded, for freeing. */
  readonly all: readonly DeviceTensor[];
}

/** Concatenates same-dtype, same-width matrices along their rows. */
export function concatRows(name: string, parts: readonly HostTensor[]): HostTensor {
  const cols = parts[0].shape.slice(1);
  for (const p of parts) {
    if (p.dtype !== parts[0].dtype) throw new Error(`${name}: ${p.name} is ${p.dtype}, ${parts[0].name} is ${parts[0].dtype}`);
    if (p.shape.slice(1).join() !== cols.join()) throw new Error(`${name}: ${p.name} [${p.shape.join(', ')}] cannot stack with ${parts[0].name}`);
  }
  const data = new Uint8Array(parts.reduce((a, p) => a + p.data.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.byteLength;
  }
  const rows = parts.reduce((a, p) => a + p.shape[0], 0);
  return { name, dtype: parts[0].dtype, shape: [rows, ...cols], data };
}

export async function loadModelWeights(source: WeightSource, backend: Backend): Promise<ModelWeights> {
  const all: DeviceTensor[] = [];
  const onDevice = source instanceof DummyWeightSource && backend.createDummyWeight ? source : null;
  /** The row concatenation of the named tensors as one weight. */
  const upRows = async (fused: string, names: readonly string[], shape?: readonly number[]): Promise<DeviceTensor> => {
    let t: DeviceTensor;
    if (onDevice && backend.createDummyWeight) {
      t = backend.createDummyWeight(names.map((n) => onDevice.fillSpec(n)), shape);
    } else {
      const parts = await Promise.all(names.map((n) => source.get(n)));
      t = backend.uploadWeight(parts.length === 1 ? parts[0] : concatRows(fused, parts), shape);
    }
    all.push(t);
    return t;
  };
  const up = (name: string, shape?: readonly number[]): Promise<DeviceTensor> => upRows(name, [name], shape);
  const layer = async (prefix: string, qRows: number, kvRows: number): Promise<LayerWeights> => {
    const a = `${prefix}attention.`;
    const wqkv = await upRows(`${a}wqkv`, [`${a}wq`, `${a}wk`, `${a}wv`]);
    const d = wqkv.shape[1];
    const [kRows, vRows] = [kvRows, kvRows];
    if (wqkv.shape[0] !== qRows + 2 * kvRows) throw new Error(`${a}wq/wk/wv: ${wqkv.shape[0]} rows, expected ${qRows} + 2 x ${kvRows}`);
    return {
      attentionNorm: await up(`${prefix}attention_norm`),
      wqkv,
      wq: backend.view(wqkv, [qRows, d], 0),
      wk: backend.view(wqkv, [kRows, d], qRows * d),
      wv: backend.view(wqkv, [vRows, d], (qRows + kRows) * d),
      wo: await up(`${a}wo`),
      ffnNorm: await up(`${prefix}ffn_norm`),
      w13: await upRows(`${prefix}feed_forward.w13`, [`${prefix}feed_forward.w1`, `${prefix}feed_forward.w3`]),
      w2: await up(`${prefix}feed_forward.w2`),
    };
  };
  const cfg = source.config;
  const textLayers: LayerWeights[] = [];
  for (let l = 0; l < cfg.text.numLayers; l++) textLayers.push(await layer(`layers.${l}.`, cfg.text.numHeads * cfg.text.headDim, cfg.text.numKvHeads * cfg.text.headDim));
  const text: TextWeights = {
    embeddings: await up('tok_embeddings'),
    layers: textLayers,
    norm: await up('norm'),
    output: await up('output'),
  };
  let vision: VisionWeights | null = null;
  let projector: ProjectorWeights | null = null;
  if (cfg.vision && cfg.projector) {
    const v = cfg.vision;
    const layers: LayerWeights[] = [];
    for (let l = 0; l < v.numLayers; l++) layers.push(await layer(`vision.layers.${l}.`, v.numHeads * v.headDim, v.numHeads * v.headDim));
    vision = {
      patchConv: await up('vision.patch_conv', [v.hiddenSize, v.numChannels * v.patchSize * v.patchSize]),
      lnPre: await up('vision.ln_pre'),
      layers,
    };
    projector = {
      norm: cfg.projector.hasPreNorm ? await up('projector.norm') : null,
      patchMerger: await up('projector.patch_merger'),
      linear1: await up('projector.linear_1'),
      linear2: await up('projector.linear_2'),
    };
  }
  return { text, vision, projector, all };
}

