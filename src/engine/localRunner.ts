// A model runner on this thread: the device's backend, the weights, the KV cache.
import { createDeviceBackend } from '../backend/deviceBackend.js';
import { createRunner } from '../model/modelRunner.js';
import { openModelSource, type LoadFormat, type ModelSource } from '../model/modelSource.js';
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
  readonly kvCacheMemoryFraction: number;
}

/** Builds the runner; `source` is reused when given (else opened here). Closing the runner
 *  releases the backend (its threads) and the weight files too. */
export async function openLocalRunner(spec: RunnerSpec, source?: ModelSource): Promise<ModelRunner> {
  const src = source ?? (await openModelSource({ model: spec.model, loadFormat: spec.loadFormat, tokenizerPath: spec.tokenizer }));
  let backend;
  try {
    backend = await createDeviceBackend(spec.device, { threads: spec.threads });
  } catch (err) {
    await src.weights.close();
    throw err;
  }
  try {
    const inner = await createRunner({
      weights: src.weights,
      backend,
      maxModelLen: spec.maxModelLen,
      maxNumSeqs: spec.maxNumSeqs,
      maxNumBatchedTokens: spec.maxNumBatchedTokens,
      kvCacheTokens: spec.kvCacheTokens,
      kvCacheMemoryFraction: spec.kvCacheMemoryFraction,
    });
    const b = backend;
    return {
      kvCache: inner.kvCache,
      limits: inner.limits,
      execute: (batch, sampling, promptLogprobs) => inner.execute(batch, sampling, promptLogprobs),
      async close() {
        await inner.close();
        await src.weights.close();
        await b.close();
      },
    };
  } catch (err) {
    await src.weights.close();
    await backend.close();
    throw err;
  }
}
