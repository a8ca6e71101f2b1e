// Moves a checkpoint's weights (canonical names, src/model/weights.ts) onto a backend, in the
// shapes the network code uses: gate and up projections fused into one [2*inter, hidden]
// matrix (the input siluAndMul expects), the patch conv as a [vHidden, 3*p*p] matrix.
import type { Backend, DeviceTensor } from '../backend/backend.js';
import type { HostTensor, WeightSource } from './weights.js';

export interface LayerWeights {
  readonly attentionNorm: DeviceTensor; // [d]
  readonly wq: DeviceTensor; // [heads*hd, d]
  readonly wk: DeviceTensor; // [kvHeads*hd, d]
  readonly wv: DeviceTensor; // [kvHeads*hd, d]
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
  const up = async (name: string, shape?: readonly number[]): Promise<DeviceTensor> => {
    const t = backend.uploadWeight(await source.get(name), shape);
    all.push(t);
    return t;
  };
  const layer = async (prefix: string): Promise<LayerWeights> => {
    const fused = concatRows(`${prefix}feed_forward.w13`, [
      await source.get(`${prefix}feed_forward.w1`),
      await source.get(`${prefix}feed_forward.w3`),
    ]);
    const w13 = backend.uploadWeight(fused);
    all.push(w13);
    return {
      attentionNorm: await up(`${prefix}attention_norm`),
      wq: await up(`${prefix}attention.wq`),
      wk: await up(`${prefix}attention.wk`),
      wv: await up(`${prefix}attention.wv`),
      wo: await up(`${prefix}attention.wo`),
      ffnNorm: await up(`${prefix}ffn_norm`),
      w13,
      w2: await up(`${prefix}feed_forward.w2`),
    };
  };
  const cfg = source.config;
  const textLayers: LayerWeights[] = [];
  for (let l = 0; l < cfg.text.numLayers; l++) textLayers.push(await layer(`layers.${l}.`));
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
    for (let l = 0; l < v.numLayers; l++) layers.push(await layer(`vision.layers.${l}.`));
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
