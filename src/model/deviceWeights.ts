// Moves a checkpoint's weights (canonical names, src/model/weights.ts) onto a backend, in the
// shapes the network code uses: gate and up projections fused into one [2*inter, hidden]
// matrix (the input siluAndMul expects), q/k/v projections fused into one
// [(heads + 2*kvHeads)*hd, d] matrix (one decode matmul; wq/wk/wv are row views of it), the
// patch conv as a [vHidden, 3*p*p] matrix. Every linear layer's weight is a LinearWeight the
// backend owns (dense, FP8 from the checkpoint, or quantized at load time: weightPlacer.ts);
// norms, the embedding table and lm_head (`output`, which may be the embedding table itself)
// stay dense device tensors.
import type { Backend, DeviceTensor, LinearQuantization, LinearWeight } from '../backend/backend.js';
import type { LoadProgressListener } from './loadProgress.js';
import type { ParallelLoadOptions } from './parallelLoader.js';
import { planWeights } from './weightPlan.js';
import { WeightPlacer } from './weightPlacer.js';
import type { WeightSource } from './weights.js';

export { concatRows } from './weightPlacer.js';

export interface LayerWeights {
  readonly attentionNorm: DeviceTensor; // [d]
  readonly wqkv: LinearWeight; // [(heads + 2*kvHeads)*hd, d]: wq rows, wk rows, wv rows
  readonly wq: LinearWeight; // [heads*hd, d], rows of wqkv
  readonly wk: LinearWeight; // [kvHeads*hd, d], rows of wqkv
  readonly wv: LinearWeight; // [kvHeads*hd, d], rows of wqkv
  readonly wo: LinearWeight; // [d, heads*hd]
  readonly ffnNorm: DeviceTensor; // [d]
  readonly w13: LinearWeight; // [2*inter, d]: gate rows, then up rows
  readonly w2: LinearWeight; // [d, inter]
}

export interface TextWeights {
  readonly embeddings: DeviceTensor; // [vocab, d]
  readonly layers: readonly LayerWeights[];
  readonly norm: DeviceTensor; // [d]
  readonly output: DeviceTensor; // [vocab, d], dense (multiplied with matmul into f32 logits)
}

export interface VisionWeights {
  readonly patchConv: LinearWeight; // [vHidden, 3*p*p], input patch flattened (channel, y, x)
  readonly lnPre: DeviceTensor; // [vHidden]
  readonly layers: readonly LayerWeights[];
}

export interface ProjectorWeights {
  readonly norm: DeviceTensor | null; // [vHidden]
  readonly patchMerger: LinearWeight; // [vHidden, vHidden*merge²]
  readonly linear1: LinearWeight; // [hidden, vHidden]
  readonly linear2: LinearWeight; // [hidden, hidden]
}

export interface ModelWeights {
  readonly text: TextWeights;
  readonly vision: VisionWeights | null;
  readonly projector: ProjectorWeights | null;
  /** Every dense device tensor uploaded (dense linears' included), for freeing with free. */
  readonly all: readonly DeviceTensor[];
  /** Every linear handle (not the row views), for freeing with freeLinear before `all`. */
  readonly linears: readonly LinearWeight[];
}

/** Frees every weight of a model (linear handles first, then the tensors they may borrow). */
export function freeModelWeights(backend: Backend, w: ModelWeights): void {
  for (const l of w.linears) backend.freeLinear(l);
  for (const t of w.all) backend.free(t);
}

export interface LoadWeightsOptions {
  readonly onProgress?: LoadProgressListener;
  /** Streams a checkpoint's files through the backend's WeightSink (src/model/parallelLoader.ts)
   *  when both allow it (default); false reads each tensor through WeightSource.get instead. */
  readonly parallel?: ParallelLoadOptions | false;
  /** 'fp8': quantize the text decoder's linear weights at load time (per-row scales), as
   *  vLLM's `--quantization fp8` does for a bf16 checkpoint. Refused for an FP8 checkpoint. */
  readonly quantize?: LinearQuantization;
}

export async function loadModelWeights(source: WeightSource, backend: Backend, options: LoadWeightsOptions = {}): Promise<ModelWeights> {
  const place = new WeightPlacer(source, backend, planWeights(source.config), options);
  try {
    await place.start();
    const layer = async (prefix: string, qRows: number, kvRows: number): Promise<LayerWeights> => {
      const a = `${prefix}attention.`;
      const wqkv = await place.linear(`${a}wqkv`);
      if (wqkv.shape[0] !== qRows + 2 * kvRows) throw new Error(`${a}wq/wk/wv: ${wqkv.shape[0]} rows, expected ${qRows} + 2 x ${kvRows}`);
      return {
        attentionNorm: await place.tensor(`${prefix}attention_norm`),
        wqkv,
        wq: backend.linearRows(wqkv, 0, qRows),
        wk: backend.linearRows(wqkv, qRows, kvRows),
        wv: backend.linearRows(wqkv, qRows + kvRows, kvRows),
        wo: await place.linear(`${a}wo`),
        ffnNorm: await place.tensor(`${prefix}ffn_norm`),
        w13: await place.linear(`${prefix}feed_forward.w13`),
        w2: await place.linear(`${prefix}feed_forward.w2`),
      };
    };
    const cfg = source.config;
    const textLayers: LayerWeights[] = [];
    for (let l = 0; l < cfg.text.numLayers; l++) textLayers.push(await layer(`layers.${l}.`, cfg.text.numHeads * cfg.text.headDim, cfg.text.numKvHeads * cfg.text.headDim));
    const embeddings = await place.tensor('tok_embeddings');
    const text: TextWeights = {
      embeddings,
      layers: textLayers,
      norm: await place.tensor('norm'),
      // Tied embeddings: the output projection is the same device tensor (listed once in `all`).
      output: cfg.text.tiedEmbeddings ? embeddings : await place.tensor('output'),
    };
    let vision: VisionWeights | null = null;
    let projector: ProjectorWeights | null = null;
    if (cfg.vision && cfg.projector) {
      const v = cfg.vision;
      const layers: LayerWeights[] = [];
      for (let l = 0; l < v.numLayers; l++) layers.push(await layer(`vision.layers.${l}.`, v.numHeads * v.headDim, v.numHeads * v.headDim));
      vision = { patchConv: await place.linear('vision.patch_conv'), lnPre: await place.tensor('vision.ln_pre'), layers };
      projector = {
        norm: cfg.projector.hasPreNorm ? await place.tensor('projector.norm') : null,
        patchMerger: await place.linear('projector.patch_merger'),
        linear1: await place.linear('projector.linear_1'),
        linear2: await place.linear('projector.linear_2'),
      };
    }
    place.finish();
    return { text, vision, projector, all: [...place.tensors], linears: [...place.linears] };
  } catch (err) {
    place.release();
    throw err;
  }
}
