// Moves a checkpoint's weights (canonical names, src/model/weights.ts) onto a backend, in the
// shapes the network code uses: gate and up projections fused into one [2*inter, hidden]
// matrix (the input siluAndMul expects), q/k/v projections fused into one
// [(heads + 2*kvHeads)*hd, d] matrix (one decode matmul; wq/wk/wv are views of its rows), the
// patch conv as a [vHidden, 3*p*p] matrix. Dummy weights are generated on the device when the
// backend can (Backend.createDummyWeight), else on the host and uploaded.
import type { Backend, DeviceTensor } from '../backend/backend.js';
import { expectedShapes } from './weightNames.js';
import { DummyWeightSource } from './dummyWeights.js';
import type { LoadProgress, LoadProgressListener } from './loadProgress.js';
import { loadWeightsParallel, type ParallelLoadOptions } from './parallelLoader.js';
import { isLocated } from './tensorLocation.js';
import { planWeights } from './weightPlan.js';
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

export interface LoadWeightsOptions {
  readonly onProgress?: LoadProgressListener;
  /** Streams a checkpoint's files through the backend's WeightSink (src/model/parallelLoader.ts)
   *  when both allow it (default); false reads each tensor through WeightSource.get instead. */
  readonly parallel?: ParallelLoadOptions | false;
}

export async function loadModelWeights(source: WeightSource, backend: Backend, options: LoadWeightsOptions = {}): Promise<ModelWeights> {
  const all: DeviceTensor[] = [];
  const onDevice = source instanceof DummyWeightSource && backend.createDummyWeight ? source : null;
  const plan = planWeights(source.config);
  const streamed =
    options.parallel !== false && isLocated(source) && backend.createWeightSink
      ? (await loadWeightsParallel(source, backend, plan, { ...options.parallel, onProgress: options.onProgress })).tensors
      : null;
  const progress = streamed ? null : tensorProgress(source, plan.flatMap((w) => w.parts), options.onProgress);
  /** The row concatenation of the named tensors as one weight. */
  const upRows = async (fused: string, names: readonly string[], shape?: readonly number[]): Promise<DeviceTensor> => {
    let t: DeviceTensor;
    if (streamed) {
      const s = streamed.get(fused);
      if (!s) throw new Error(`weight ${fused} was not in the load plan`);
      streamed.delete(fused);
      t = s;
    } else if (onDevice && backend.createDummyWeight) {
      t = backend.createDummyWeight(names.map((n) => onDevice.fillSpec(n)), shape);
    } else {
      const parts = await Promise.all(names.map((n) => source.get(n)));
      t = backend.uploadWeight(parts.length === 1 ? parts[0] : concatRows(fused, parts), shape);
    }
    progress?.placed(names);
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
  const embeddings = await up('tok_embeddings');
  const text: TextWeights = {
    embeddings,
    layers: textLayers,
    norm: await up('norm'),
    // Tied embeddings: the output projection is the same device tensor (listed once in `all`).
    output: cfg.text.tiedEmbeddings ? embeddings : await up('output'),
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
  if (streamed && streamed.size > 0) throw new Error(`weights ${[...streamed.keys()].join(', ')} were loaded but not used`);
  progress?.done();
  return { text, vision, projector, all };
}

const DTYPE_BYTES = { bf16: 2, f16: 2, f32: 4 } as const;

/** Progress of the tensor-by-tensor path (dummy weights, or a source without files). */
function tensorProgress(source: WeightSource, names: readonly string[], listener: LoadProgressListener | undefined) {
  const start = performance.now();
  const width = DTYPE_BYTES[source.config.dtype];
  const shapes = expectedShapes(source.config);
  const size = (n: string) => (shapes.get(n) ?? []).reduce((a, d) => a * d, 1) * width;
  const bytesTotal = names.reduce((a, n) => a + size(n), 0);
  let bytesDone = 0;
  let tensorsDone = 0;
  const emit = (phase: LoadProgress['phase']) =>
    listener?.({ phase, bytesDone, bytesTotal, tensorsDone, tensorsTotal: names.length, elapsedSeconds: (performance.now() - start) / 1000 });
  emit('start');
  return {
    placed(parts: readonly string[]) {
      for (const n of parts) bytesDone += size(n);
      tensorsDone += parts.length;
      emit('progress');
    },
    done: () => emit('done'),
  };
}

