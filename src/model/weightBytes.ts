// Device bytes a model's weights will take on a backend, before any is read: the memory plan's
// first line. Linear weights count what the backend stores for their format (Backend.linearBytes:
// FP8 on CUDA is one byte an element plus a scale a row; the CPU keeps f32 whatever the format);
// norms and tables count the backend's dense element size.
import type { Backend, LinearQuantization } from '../backend/backend.js';
import { expectedShapes } from './weightNames.js';
import { weightFormat } from './weightPlacer.js';
import { planWeights } from './weightPlan.js';
import type { WeightSource } from './weights.js';

export function plannedWeightBytes(source: WeightSource, backend: Backend, quantize?: LinearQuantization): number {
  const cfg = source.config;
  const shapes = expectedShapes(cfg);
  const denseWidth = backend.activationDType === 'f32' ? 4 : 2;
  let bytes = 0;
  for (const w of planWeights(cfg)) {
    const partShapes = w.parts.map((p) => shapes.get(p) ?? []);
    const numel = partShapes.reduce((a, s) => a + s.reduce((x, d) => x * d, 1), 0);
    if (!w.linear) {
      bytes += numel * denseWidth;
      continue;
    }
    const rows = partShapes.reduce((a, s) => a + s[0], 0);
    const format = weightFormat(w, source, quantize) === 'dense' ? 'dense' : 'fp8';
    bytes += backend.linearBytes([rows, numel / rows], format, cfg.dtype);
  }
  return bytes;
}
