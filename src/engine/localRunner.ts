// A model runner on this thread, through the shared loader (src/model/loadModelRunner.ts):
// the device's backend, the weights, the KV cache.
import type { LoadFormat } from '../model/modelSource.js';
import { loadModelRunner } from '../model/loadModelRunner.js';
import type { ModelRunner } from '../model/runner.js';

/** Everything needed to build a runner (plain data: it also crosses to a worker thread). */
export interface RunnerSpec {
  readonly model: string;
  readonly loadFormat: LoadFormat;
  readonly tokenizer?: string;
  readonly device: string;
  readonly threads?: number;
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  readonly kvCacheTokens?: number;
  readonly gpuMemoryUtilization: number;
  readonly enforceEager?: boolean;
}

/** Builds the runner. Closing it releases the backend (its threads) and the weight files too. */
export async function openLocalRunner(spec: RunnerSpec): Promise<ModelRunner> {
  const loaded = await loadModelRunner({
    model: spec.model,
    loadFormat: spec.loadFormat,
    tokenizerPath: spec.tokenizer,
    device: spec.device,
    threads: spec.threads,
    maxModelLen: spec.maxModelLen,
    maxNumSeqs: spec.maxNumSeqs,
    maxNumBatchedTokens: spec.maxNumBatchedTokens,
    kvCacheTokens: spec.kvCacheTokens,
    gpuMemoryUtilization: spec.gpuMemoryUtilization,
    enforceEager: spec.enforceEager,
  });
  const inner = loaded.runner;
  let closed = false;
  return {
    kvCache: inner.kvCache,
    limits: inner.limits,
    execute: (batch, sampling, promptLogprobs) => inner.execute(batch, sampling, promptLogprobs),
    isAlive: () => !closed,
    close: () => {
      closed = true;
      return loaded.close();
    },
  };
}
