// The one loader of a runnable model, shared by the CLI and the engine: where the weights come
// from (openModelSource: a directory, or dummy weights for a directory's or a built-in
// config), which device runs them (createDeviceBackend; default cuda when a driver and GPU are
// present, else cpu), and the ModelRunner with its memory plan (weights, workspace, KV cache).
import type { Backend } from '../backend/backend.js';
import { createDeviceBackend, defaultDevice } from '../backend/deviceBackend.js';
import { createRunner, KV_BLOCK_SIZE } from './modelRunner.js';
import type { LoadProgressListener } from './loadProgress.js';
import { openModelSource, type LoadFormat, type ModelSource } from './modelSource.js';
import type { ParallelLoadOptions } from './parallelLoader.js';
import type { ModelRunner } from './runner.js';

export interface LoadModelRunnerOptions {
  /** A model directory or a built-in config name (with loadFormat 'dummy'); default the
   *  embedded tiny model. */
  readonly model?: string;
  readonly loadFormat?: LoadFormat; // default 'auto'
  readonly tokenizerPath?: string;
  readonly seed?: number;
  /** 'cpu' | 'cuda'; default cuda when a driver and a GPU are present, else cpu. */
  readonly device?: string;
  /** CPU matmul threads. */
  readonly threads?: number;
  /** Default: the model's max positions (capped at 8192 on the CPU). */
  readonly maxModelLen?: number;
  readonly maxNumSeqs?: number; // default 1
  readonly maxNumBatchedTokens?: number; // default min(maxModelLen, 2048)
  readonly kvCacheTokens?: number;
  /** Fraction of the device's total memory the process may use (vLLM's; default 0.9). */
  readonly gpuMemoryUtilization?: number;
  /** Never replay recorded decode graphs (vLLM's enforce_eager; default: TRAMONTANE_ENFORCE_EAGER=1). */
  readonly enforceEager?: boolean;
  /** Called as the weights load (src/model/loadProgress.ts). */
  readonly onProgress?: LoadProgressListener;
  /** The streaming weight loader's settings, or false for tensor-by-tensor uploads. */
  readonly weightLoad?: ParallelLoadOptions | false;
}

export interface LoadedModelRunner {
  readonly source: ModelSource;
  readonly backend: Backend;
  readonly runner: ModelRunner;
  readonly maxModelLen: number;
  /** Closes the runner, the weight source and the backend. */
  close(): Promise<void>;
}

export async function loadModelRunner(o: LoadModelRunnerOptions): Promise<LoadedModelRunner> {
  const source = await openModelSource({ model: o.model, loadFormat: o.loadFormat ?? 'auto', tokenizerPath: o.tokenizerPath, seed: o.seed });
  let backend: Backend | null = null;
  try {
    const cfg = source.config;
    const util = o.gpuMemoryUtilization ?? 0.9;
    if (!(util > 0 && util <= 1)) throw new Error(`gpuMemoryUtilization must be in (0, 1], got ${util}`);
    backend = await createDeviceBackend(o.device ?? (await defaultDevice()), { threads: o.threads });
    const onCpu = backend.name === 'cpu';
    const maxModelLen = o.maxModelLen ?? (onCpu ? Math.min(cfg.text.maxPositionEmbeddings, 8192) : cfg.text.maxPositionEmbeddings);
    if (maxModelLen > cfg.text.maxPositionEmbeddings) {
      throw new Error(`max model length ${maxModelLen} exceeds the model's ${cfg.text.maxPositionEmbeddings} positions`);
    }
    const maxNumSeqs = o.maxNumSeqs ?? 1;
    // On the CPU the cache lives in ordinary memory: keep it to what the sequences can use.
    const perSeq = Math.ceil(maxModelLen / KV_BLOCK_SIZE) * KV_BLOCK_SIZE; // whole blocks
    const kvCacheTokens = o.kvCacheTokens ?? (onCpu ? Math.max(perSeq, Math.min(maxNumSeqs * perSeq, 1 << 17)) : undefined);
    const runner = await createRunner({
      weights: source.weights,
      backend,
      maxModelLen,
      maxNumSeqs,
      maxNumBatchedTokens: o.maxNumBatchedTokens ?? Math.min(maxModelLen, 2048),
      kvCacheTokens,
      kvCacheMemoryFraction: util,
      enforceEager: o.enforceEager,
      load: { onProgress: o.onProgress, parallel: o.weightLoad },
    });
    const b = backend;
    return {
      source,
      backend: b,
      runner,
      maxModelLen,
      async close() {
        await runner.close();
        await source.weights.close();
        await b.close();
      },
    };
  } catch (err) {
    await backend?.close();
    await source.weights.close();
    throw err;
  }
}
