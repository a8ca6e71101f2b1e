// Vision benchmark on the CUDA backend: one image of --image-size (default 1540: 12100 patches,
// 3025 merged tokens) through the Pixtral encoder and the projector of the built-in
// mistral-small-3.1-24b config with dummy weights (filled on the GPU), bf16.
//   node dist/bench/cuda/vision.js [results.json] [imageSize]
// Reports the wall time of encodeImages (host planning + pixel upload + every kernel, until the
// stream is idle) and the GPU time between its first and last op (events), then its input
// stage apart, each the median of 5: the host planning (grids, RoPE rows/cols), the f32 pixel
// upload (pageable, as encodeImages does it; and through a pinned staging buffer, for
// comparison) and the patchify kernel; and, measured in the same run for the before/after, the
// input stage it replaced: host patch extraction, f32 -> bf16 and a pageable upload of the
// bf16 patches.
import { writeFileSync } from 'node:fs';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { asCuda, f32ToBf16 } from '../../src/backend/cuda/cudaTensor.js';
import { patchifyF32 } from '../../src/backend/patchLayout.js';
import { loadBuiltinConfig, MISTRAL_SMALL_3_1 } from '../../src/model/builtinConfigs.js';
import { loadModelWeights } from '../../src/model/deviceWeights.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { planPatches } from '../../src/model/imagePatches.js';
import { encodeImages } from '../../src/model/visionEncoder.js';

const size = Number(process.argv[3] ?? 1540);
const cfg = await loadBuiltinConfig(MISTRAL_SMALL_3_1);
const v = cfg.vision;
const p = cfg.projector;
if (!v || !p) throw new Error('the built-in config has no vision encoder');
const b = new CudaBackend();
const d = b.ctx.driver;
const stream = b.ctx.stream;
const t0 = performance.now();
const weights = await loadModelWeights(new DummyWeightSource(cfg), b);
await b.synchronize();
const loadMs = performance.now() - t0;
if (!weights.vision || !weights.projector) throw new Error('no vision weights');
const pixels = new Float32Array(3 * size * size);
for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.37) * 1.5;
const image = { pixels, height: size, width: size };
const [ev0, ev1] = [d.createEvent(), d.createEvent()];

/** Median of 5 timed calls (after one untimed warm-up) of `f`, which returns its ms. */
async function median5(f: () => Promise<number> | number): Promise<{ median: number; all: number[] }> {
  await f();
  const all: number[] = [];
  for (let i = 0; i < 5; i++) all.push(await f());
  const sorted = [...all].sort((a, c) => a - c);
  return { median: sorted[2], all };
}

/** Wall ms of `f` until the stream is idle, and the GPU ms between events around its ops. */
async function timed(f: () => void): Promise<{ wall: number; gpu: number }> {
  const t = performance.now();
  d.recordEvent(ev0, stream);
  f();
  d.recordEvent(ev1, stream);
  await b.synchronize();
  const wall = performance.now() - t;
  return { wall, gpu: d.elapsedMs(ev0, ev1) };
}

const gpuMs: number[] = [];
const encode = await median5(async () => {
  let features: ReturnType<typeof encodeImages>['features'] | undefined;
  const r = await timed(() => {
    features = encodeImages(b, cfg, weights.vision!, weights.projector!, [image]).features;
  });
  b.free(features!);
  gpuMs.push(r.gpu);
  return r.wall;
});

// ---- the input stage as encodeImages runs it now ----------------------------------------
const merge = p.spatialMergeSize;
const plan = () => planPatches([image], v.patchSize, v.numChannels, v.patchSize * merge);
const hostPlan = await median5(() => {
  const t = performance.now();
  plan();
  return performance.now() - t;
});
const batch = plan();
const n = batch.patchStarts[1];
const width = v.numChannels * v.patchSize * v.patchSize;
const pxT = b.alloc([n * width], 'f32');
const out = b.alloc([n, width], 'bf16');
const spans = { patchStarts: b.alloc([2], 'i32'), gridRows: batch.gridRows, gridCols: batch.gridCols, maxPatches: n };
b.write(spans.patchStarts, batch.patchStarts);
const uploadPageable = await median5(async () => (await timed(() => b.write(pxT, pixels))).wall);
const patchifyKernel = await median5(async () => (await timed(() => b.patchify(out, pxT, spans, v.patchSize))).gpu);

// ---- the input stage it replaced (before this change) --------------------------------------
let hostPatches = new Float32Array(0);
const legacyExtract = await median5(() => {
  const t = performance.now();
  plan();
  hostPatches = new Float32Array(n * width);
  patchifyF32(hostPatches, pixels, batch.gridRows, batch.gridCols, v.patchSize, v.numChannels);
  return performance.now() - t;
});
const legacyUpload = await median5(async () => (await timed(() => b.write(out, hostPatches))).wall);
const legacyBits = f32ToBf16(hostPatches);
const legacyUploadOnly = await median5(async () => (await timed(() => d.copyHtoD(asCuda(out, 'patches').ptr, legacyBits, stream))).wall);
// The device path writes the very bits the host path wrote.
const onDevice = await b.download(out);
b.patchify(out, pxT, spans, v.patchSize);
const viaKernel = await b.download(out);
let mismatches = 0;
for (let i = 0; i < viaKernel.length; i++) if (!Object.is(viaKernel[i], onDevice[i])) mismatches++;

gpuMs.shift(); // the warm-up's (kernel compiles, cuBLASLt autotuning)
const sortedGpu = [...gpuMs].sort((a, c) => a - c);
const input: Record<string, unknown> = {
  host_plan_ms: hostPlan.median,
  pixel_upload_pageable_ms: uploadPageable.median, pixel_upload_pageable_ms_all: uploadPageable.all,
  pixel_upload_bytes: pixels.byteLength,
  patchify_kernel_ms: patchifyKernel.median,
  pixel_upload_pinned: 'not measured yet',
};
const result = {
  tool: 'bench/cuda/vision.ts', command: process.argv.join(' '), date: new Date().toISOString(), card: b.deviceName,
  image_size: size, patches: n, weights_load_ms: loadMs,
  encode_ms_median: encode.median, encode_ms: encode.all,
  encode_gpu_ms_median: sortedGpu[2], encode_gpu_ms: gpuMs,
  input_stage: input,
  replaced_input_stage: {
    host_patch_extraction_ms: legacyExtract.median,
    bf16_convert_and_pageable_upload_ms: legacyUpload.median,
    bf16_pageable_upload_only_ms: legacyUploadOnly.median,
    upload_bytes: legacyBits.byteLength,
  },
  patchify_matches_host_path: mismatches === 0, patchify_mismatches: mismatches,
  cublas_autotune: b.ctx.cublas.autotuned,
};
console.log(JSON.stringify(result));
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(result, null, 1) + '\n');

// Pinned staging, last (the page-locked allocation is the one driver call no other code path
// makes): copy into page-locked memory, then an asynchronous copy from it.
try {
  const host = d.mallocHost(pixels.byteLength);
  const staging = new Float32Array(host.buffer);
  const withCopy = await median5(async () => (await timed(() => {
    staging.set(pixels);
    d.copyHtoD(asCuda(pxT, 'pixels').ptr, staging, stream);
  })).wall);
  const copyOnly = await median5(async () => (await timed(() => d.copyHtoD(asCuda(pxT, 'pixels').ptr, staging, stream))).wall);
  d.freeHost(host.ptr);
  input.pixel_upload_pinned = { host_copy_and_upload_ms: withCopy.median, upload_only_ms: copyOnly.median, upload_only_ms_all: copyOnly.all };
} catch (err) {
  input.pixel_upload_pinned = { error: (err as Error).message };
}

console.log(JSON.stringify({ pixel_upload_pinned: input.pixel_upload_pinned }));
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(result, null, 1) + '\n');
d.destroyEvent(ev0);
d.destroyEvent(ev1);
await b.close();
