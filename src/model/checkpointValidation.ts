// Checks of an opened checkpoint that need the whole picture, run before any weight byte is
// read (besides the per-tensor name, dtype and shape checks of checkpoint.ts): tensors fused
// into one device weight must share a dtype.
import { CheckpointError } from './checkpointError.js';
import type { ModelConfig } from './config.js';
import { planWeights } from './weightPlan.js';

export interface TensorFacts {
  readonly diskName: string;
  readonly path: string;
  /** safetensors dtype string (BF16, F16, F32). */
  readonly dtype: string;
}

export function checkFusedDtypes(config: ModelConfig, facts: (canonical: string) => TensorFacts | undefined): void {
  for (const w of planWeights(config)) {
    if (w.parts.length < 2) continue;
    const first = facts(w.parts[0]);
    for (const part of w.parts.slice(1)) {
      const f = facts(part);
      if (first && f && f.dtype !== first.dtype) {
        throw new CheckpointError(
          `tensor ${f.diskName} in ${f.path} is ${f.dtype} but ${first.diskName} in ${first.path} is ${first.dtype}: they are fused into one weight (${w.key}) and must share a dtype`,
        );
      }
    }
  }
}
