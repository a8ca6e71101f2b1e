// Pixtral vision encoder and the Mistral 3 projector on a backend (docs/model.md#the-math):
// patch conv (a matmul over flattened patches), ln_pre RMSNorm, pre-norm blocks with 2D RoPE
// and block-diagonal attention, no final norm; then projector norm, channel-major patch merge,
// linear_1, exact GELU, linear_2. Vision work is not on the decode path: buffers are
// allocated per call and freed before returning.
import type { Backend, DeviceTensor, DType, ImageSpans } from '../backend/backend.js';
import type { ModelConfig } from './config.js';
import type { ProjectorWeights, VisionWeights } from './deviceWeights.js';
import { planPatches, type EncoderImage } from './imagePatches.js';

export interface ImageFeatures {
  /** [sum of merged tokens, text hidden]: the rows that replace [IMG] embeddings, image after image. */
  readonly features: DeviceTensor;
  /** [numImages + 1] prefix sums of rows per image. */
  readonly rowStarts: readonly number[];
}

export function encodeImages(
  backend: Backend,
  cfg: ModelConfig,
  vw: VisionWeights,
  pw: ProjectorWeights,
  images: readonly EncoderImage[],
): ImageFeatures {
  const v = cfg.vision;
  const pc = cfg.projector;
  if (!v || !pc) throw new Error('this checkpoint has no vision encoder');
  if (v.hiddenAct !== 'silu') throw new Error(`vision hidden_act '${v.hiddenAct}' is not supported (Mistral Small 3.1 uses silu)`);
  const merge = pc.spatialMergeSize;
  const batch = planPatches(images, v.patchSize, v.numChannels, v.patchSize * merge);
  const n = batch.patchStarts[images.length];
  const a = backend.activationDType;
  const temps: DeviceTensor[] = [];
  const alloc = (shape: number[], dtype: DType = a) => {
    const t = backend.alloc(shape, dtype);
    temps.push(t);
    return t;
  };
  const ints = (data: Int32Array) => {
    const t = alloc([data.length], 'i32');
    backend.write(t, data);
    return t;
  };
  const vh = v.hiddenSize;
  const width = v.numHeads * v.headDim;
  const patchWidth = v.numChannels * v.patchSize * v.patchSize;
  // The pixels go up as the image preprocessing made them (f32, one copy per image, no host
  // copy first); patchify lays them out as patch rows on the device.
  const pixels = backend.alloc([n * patchWidth], 'f32');
  images.forEach((img, i) => backend.write(pixels, img.pixels, batch.patchStarts[i] * patchWidth));
  const patches = alloc([n, patchWidth]);
  const spans: ImageSpans = {
    patchStarts: ints(batch.patchStarts),
    gridRows: batch.gridRows,
    gridCols: batch.gridCols,
    maxPatches: Math.max(...batch.gridRows.map((r, i) => r * batch.gridCols[i])),
  };
  backend.patchify(patches, pixels, spans, v.patchSize);
  backend.free(pixels);
  const rowsT = ints(batch.patchRows);
  const colsT = ints(batch.patchCols);
  const embeds = alloc([n, vh]);
  const residual = alloc([n, vh]);
  const normed = alloc([n, vh]);
  const q = alloc([n, width]);
  const k = alloc([n, width]);
  const vv = alloc([n, width]);
  const attn = alloc([n, width]);
  const proj = alloc([n, vh]);
  const gateUp = alloc([n, 2 * v.intermediateSize]);
  const act = alloc([n, v.intermediateSize]);
  backend.linear(embeds, patches, vw.patchConv);
  backend.rmsNorm(residual, embeds, vw.lnPre, v.rmsNormEps);
  const scale = 1 / Math.sqrt(v.headDim);
  vw.layers.forEach((layer, l) => {
    if (l === 0) backend.rmsNorm(normed, residual, layer.attentionNorm, v.rmsNormEps);
    else backend.addRmsNorm(normed, residual, proj, layer.attentionNorm, v.rmsNormEps);
    backend.linear(q, normed, layer.wq);
    backend.linear(k, normed, layer.wk);
    backend.linear(vv, normed, layer.wv);
    backend.ropeVision(q, k, rowsT, colsT, v.numHeads, v.headDim, v.ropeTheta);
    backend.visionAttention({ out: attn, q, k, v: vv, spans, numHeads: v.numHeads, headDim: v.headDim, scale });
    backend.linear(proj, attn, layer.wo);
    backend.addRmsNorm(normed, residual, proj, layer.ffnNorm, v.rmsNormEps);
    backend.linear(gateUp, normed, layer.w13);
    backend.siluAndMul(act, gateUp);
    backend.linear(proj, act, layer.w2);
  });
  // The last block's output (embeds is free again, so it holds it).
  const last = vw.layers.length > 0 ? embeds : residual;
  if (vw.layers.length > 0) backend.add(last, residual, proj);
  // Projector.
  const mm = merge * merge;
  const rowsOut = n / mm;
  let src = last;
  if (pw.norm) {
    backend.rmsNorm(normed, last, pw.norm, cfg.text.rmsNormEps);
    src = normed;
  }
  const merged = alloc([rowsOut, vh * mm]);
  backend.patchMerge(merged, src, spans, merge);
  const hidden = cfg.text.hiddenSize;
  const h1 = alloc([rowsOut, hidden]);
  const h2 = alloc([rowsOut, hidden]);
  const mergedOut = alloc([rowsOut, vh]);
  backend.linear(mergedOut, merged, pw.patchMerger);
  backend.linear(h1, mergedOut, pw.linear1);
  backend.gelu(h2, h1);
  const features = backend.alloc([rowsOut, hidden], a);
  backend.linear(features, h2, pw.linear2);
  for (const t of temps) backend.free(t);
  const rowStarts = Array.from(batch.patchStarts, (p) => p / mm);
  return { features, rowStarts };
}
