// The CUDA `patchify` op (kernels/patchify.cu): the images' f32 pixels, uploaded as they are,
// rearranged into the bf16 patch rows the patch-conv matmul reads.
import type { DeviceTensor, ImageSpans } from '../backend.js';
import { patchifyGeometry } from '../patchLayout.js';
import type { CudaContext } from './cudaContext.js';
import { asCuda } from './cudaTensor.js';

const BLOCK = 256;

export function launchPatchify(ctx: CudaContext, out: DeviceTensor, pixels: DeviceTensor, spans: ImageSpans, patch: number): void {
  const o = asCuda(out, 'patchify out', 'bf16');
  const px = asCuda(pixels, 'patchify pixels', 'f32');
  const { channels, width, numPatches } = patchifyGeometry(o, px, spans, patch);
  const images = spans.gridRows.length;
  if (numPatches === 0) return;
  if (images > 65535) throw new Error(`patchify: ${images} images in one call, over the 65535 the launch grid allows`);
  const info = new Int32Array(images * 4);
  let first = 0;
  let maxValues = 0;
  for (let i = 0; i < images; i++) {
    const n = spans.gridRows[i] * spans.gridCols[i];
    info.set([first, n, spans.gridCols[i], 0], i * 4);
    first += n;
    maxValues = Math.max(maxValues, n * width);
  }
  const infoPtr = ctx.upload('patchify.info', info);
  ctx.kernels
    .kernel('patchify.cu', 'patchify_bf16', ['ptr', 'ptr', 'ptr', 'i32', 'i32'])
    .launch({ grid: [Math.ceil(maxValues / BLOCK), images, 1], block: [BLOCK, 1, 1] }, ctx.stream, [o.ptr, px.ptr, infoPtr, patch, channels]);
}
