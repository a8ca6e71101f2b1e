// Loads a runnable model onto a backend it is given: the ModelRunner over a model source's
// weights with its memory plan (weights, workspace, KV cache). Which device runs it and the
// sizes' defaults are the composition root's choice (src/engine/composition.ts), not this file's.
import type { Backend } from '../backend/backend.js';
import { createRunner } from './modelRunner.js';
import type { ModelSource, Quantization } from './modelSource.js';
import type { LoadProgressListener } from './loadProgress.js';
import type { ParallelLoadOptions } from './parallelLoader.js';
import type { ModelRunner } from './runner.js';

/** What loadModelRunner needs: an open source, a backend, sizes and a progress listener. */
export interface LoadModelRunnerOptions {
  /** An open model source; its weights are read here and closed by close(). */
  readonly source: ModelSource;
  /** The device's backend; the caller that created it closes it. */
  readonly backend: Backend;
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  /** KV-cache size in tokens; default: a fraction of the device's memory (gpuMemoryUtilization). */
  readonly kvCacheTokens?: number;
  /** Fraction of the device's total memory the process may use (vLLM's; default 0.9). */
  readonly gpuMemoryUtilization?: number;
  /** Never replay recorded decode graphs (vLLM's enforce_eager; default false). */
  readonly enforceEager?: boolean;
  /** 'fp8': quantize the text decoder's linear weights as they load (a dense checkpoint only). */
  readonly quantization?: Quantization;
  /** Called as the weights load (src/model/loadProgress.ts). */
  readonly onProgress?: LoadProgressListener;
  /** The streaming weight loader's settings, or false for tensor-by-tensor uploads. */
  readonly weightLoad?: ParallelLoadOptions | false;
}

/** A runner with its weights loaded, and the source it came from. */
export interface LoadedModelRunner {
  readonly source: ModelSource;
  readonly backend: Backend;
  readonly runner: ModelRunner;
  readonly maxModelLen: number;
  /** Closes the runner and the weight source (not the backend). */
  close(): Promise<void>;
}

/** Reads a model source's weights onto a backend and builds its runner (with load progress). */
export async function loadModelRunner(o: LoadModelRunnerOptions): Promise<LoadedModelRunner> {
  const { source, backend } = o;
  const cfg = source.config;
  const util = o.gpuMemoryUtilization ?? 0.9;
  if (!(util > 0 && util <= 1)) throw new Error(`gpuMemoryUtilization must be in (0, 1], got ${util}`);
  if (o.maxModelLen > cfg.text.maxPositionEmbeddings) {
    throw new Error(`max model length ${o.maxModelLen} exceeds the model's ${cfg.text.maxPositionEmbeddings} positions`);
  }
  const runner = await createRunner({
    weights: source.weights,
    backend,
    maxModelLen: o.maxModelLen,
    maxNumSeqs: o.maxNumSeqs,
    maxNumBatchedTokens: o.maxNumBatchedTokens,
    kvCacheTokens: o.kvCacheTokens,
    kvCacheMemoryFraction: util,
    enforceEager: o.enforceEager,
    load: { onProgress: o.onProgress, parallel: o.weightLoad, quantize: o.quantization },
  });
  return {
    source,
    backend,
    runner,
    maxModelLen: o.maxModelLen,
    async close() {
      await runner.close();
      await source.weights.close();
    },
  };
}
