// Vision benchmark on the CUDA backend: one image of --image-size (default 1540: 12100 patches,
// 3025 merged tokens) through the Pixtral encoder and the projector of the built-in
// mistral-small-3.1-24b config with dummy weights (filled on the GPU), bf16.
//   node dist/bench/cuda/vision.js [results.json] [imageSize]
// Reports the wall time of encodeImages (host patch extraction + upload + every kernel, until
// the stream is idle) and, apart, the host patch extraction alone.
import { writeFileSync } from 'node:fs';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { loadBuiltinConfig, MISTRAL_SMALL_3_1 } from '../../src/model/builtinConfigs.js';
import { loadModelWeights } from '../../src/model/deviceWeights.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { extractPatches } from '../../src/model/imagePatches.js';
import { encodeImages } from '../../src/model/visionEncoder.js';

const size = Number(process.argv[3] ?? 1540);
const cfg = await loadBuiltinConfig(MISTRAL_SMALL_3_1);
const v = cfg.vision;
const p = cfg.projector;
if (!v || !p) throw new Error('the built-in config has no vision encoder');
const b = new CudaBackend();
const t0 = performance.now();
const weights = await loadModelWeights(new DummyWeightSource(cfg), b);
await b.synchronize();
const loadMs = performance.now() - t0;
if (!weights.vision || !weights.projector) throw new Error('no vision weights');
const pixels = new Float32Array(3 * size * size);
for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.37) * 1.5;
const image = { pixels, height: size, width: size };
const run = async (): Promise<number> => {
  const t = performance.now();
  const out = encodeImages(b, cfg, weights.vision!, weights.projector!, [image]);
  await b.synchronize();
  const ms = performance.now() - t;
  b.free(out.features);
  return ms;
};
await run(); // warm-up: kernel compile, cuBLASLt heuristics
const ms: number[] = [];
for (let i = 0; i < 5; i++) ms.push(await run());
const te = performance.now();
extractPatches([image], v.patchSize, v.numChannels, v.patchSize * p.spatialMergeSize);
const extractMs = performance.now() - te;
ms.sort((a, c) => a - c);
const result = {
  tool: 'bench/cuda/vision.ts', command: process.argv.join(' '), date: new Date().toISOString(), card: b.deviceName,
  image_size: size, patches: (size / v.patchSize) ** 2, weights_load_ms: loadMs,
  encode_ms_median: ms[2], encode_ms: ms, host_patch_extraction_ms: extractMs, cublas_autotune: b.ctx.cublas.autotuned,
};
console.log(JSON.stringify(result));
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(result, null, 1) + '\n');
await b.close();
