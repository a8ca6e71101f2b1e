// Shared by `generate`, `serve` and the benchmarks that load a model: the checks on the model
// flags (src/cli/specs/shared.ts) before loading, the notice when the weights are random, the
// KV-cache line after; and, for bench latency, the composition root behind it
// (src/engine/composition.ts), errors as CliErrors.
import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import type { LoadFormat, ModelSource, Quantization } from '../model/modelSource.js';
import type { ModelRunner } from '../model/runner.js';
import { openRunner } from '../engine/composition.js';
import { checkDtype } from './dtype.js';
import { CliError } from './errors.js';
import { randomWeightsNotice } from './logging.js';
import { kvCacheLine, weightLoadProgress } from './progress.js';

export interface LoadedModel {
  readonly source: ModelSource;
  readonly backend: Backend;
  readonly runner: ModelRunner;
  close(): Promise<void>;
}

export interface LoadModelOptions {
  readonly model?: string;
  readonly tokenizer?: string;
  readonly loadFormat?: LoadFormat;
  readonly quantization?: Quantization;
  readonly device?: string;
  readonly dtype?: string;
  /** Default: the model's max positions, capped at 8192 on the CPU. */
  readonly maxModelLen?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  readonly enforceEager?: boolean;
  readonly kvCacheTokens?: number;
}

/** Before a model loads: --dtype against the device, and the random-weights notice. */
export async function beforeLoad(log: Logger, o: { model?: string; loadFormat?: string; device?: string; dtype?: string }): Promise<void> {
  await checkDtype(o.dtype ?? 'auto', o.device);
  randomWeightsNotice(log, o.model, o.loadFormat ?? 'auto');
}

/** `KV cache: N tokens (X GiB)` at info. */
export function logKvCache(log: Logger, kv: { numBlocks: number; blockSize: number; bytes?: number | null }): void {
  log.info({ component: 'model' }, kvCacheLine(kv.numBlocks * kv.blockSize, kv.bytes ?? 0));
}

export async function loadModel(o: LoadModelOptions, log: Logger): Promise<LoadedModel> {
  await beforeLoad(log, o);
  try {
    const m = await openRunner({
      model: o.model,
      loadFormat: o.loadFormat ?? 'auto',
      quantization: o.quantization,
      tokenizer: o.tokenizer,
      device: o.device,
      maxModelLen: o.maxModelLen,
      maxNumSeqs: o.maxNumSeqs,
      defaultMaxNumSeqs: 1,
      maxNumBatchedTokens: o.maxNumBatchedTokens,
      enforceEager: o.enforceEager,
      kvCacheTokens: o.kvCacheTokens,
    }, weightLoadProgress());
    logKvCache(log, m.runner.kvCache);
    return { source: m.source, backend: m.backend, runner: m.runner, close: () => m.close() };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}
