// A model runner on this thread, built by the composition root (src/engine/composition.ts):
// the device's backend, the weights, the KV cache.
import type { LoadProgressListener } from '../model/loadProgress.js';
import type { ModelRunner } from '../model/runner.js';
import { openRunner, type RunnerSpec } from './composition.js';

/** Builds the runner. Closing it releases the backend (its threads) and the weight files too. */
export async function openLocalRunner(spec: RunnerSpec, onProgress?: LoadProgressListener): Promise<ModelRunner> {
  const loaded = await openRunner(spec, onProgress);
  const inner = loaded.runner;
  return {
    kvCache: inner.kvCache,
    limits: inner.limits,
    execute: (batch, sampling, promptLogprobs) => inner.execute(batch, sampling, promptLogprobs),
    close: () => loaded.close(),
  };
}
