// Shared by `generate`, `serve` and `bench latency`: the flags that choose a model, a device and
// the context length (--model, --load-format, --device, --tokenizer, --max-model-len); and, for
// bench latency, the composition root behind it (src/engine/composition.ts), errors as CliErrors.
import type { Backend } from '../backend/backend.js';
import { DEVICES } from '../backend/deviceBackend.js';
import { LOAD_FORMATS, QUANTIZATIONS, type LoadFormat, type ModelSource, type Quantization } from '../model/modelSource.js';
import type { ModelRunner } from '../model/runner.js';
import { openRunner } from '../engine/composition.js';
import { CliError } from './errors.js';
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
  readonly loadFormat?: string;
  readonly quantization?: string;
  readonly device?: string;
  /** Default: the model's max positions, capped at 8192 on the CPU. */
  readonly maxModelLen?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  readonly enforceEager?: boolean;
  readonly kvCacheTokens?: number;
}

/** parseArgs options of the model, device and context-length flags (each command checks
 *  --max-model-len against its own bounds). */
export const MODEL_FLAGS = {
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  'load-format': { type: 'string' },
  quantization: { type: 'string' },
  device: { type: 'string' },
  'max-model-len': { type: 'string' },
} as const;

export const MODEL_FLAGS_USAGE = `[--model <dir|mistral-small-3.1-24b>] [--load-format auto|dummy] [--quantization fp8] [--device cpu|cuda] [--tokenizer <tekken.json>]`;

/** Checks --load-format and --device; returns the load format. */
export function checkModelChoice(loadFormat: string | undefined, device: string | undefined): LoadFormat {
  const format = loadFormat ?? 'auto';
  if (!(LOAD_FORMATS as readonly string[]).includes(format)) throw new CliError(`--load-format must be one of ${LOAD_FORMATS.join(', ')} (got '${format}')`);
  if (device !== undefined && !(DEVICES as readonly string[]).includes(device)) throw new CliError(`--device must be one of ${DEVICES.join(', ')} (got '${device}')`);
  return format as LoadFormat;
}

/** Checks --quantization; returns it (undefined when not given). */
export function checkQuantizationFlag(value: string | undefined): Quantization | undefined {
  if (value === undefined) return undefined;
  if (!(QUANTIZATIONS as readonly string[]).includes(value)) throw new CliError(`--quantization must be one of ${QUANTIZATIONS.join(', ')} (got '${value}')`);
  return value as Quantization;
}

export async function loadModel(o: LoadModelOptions): Promise<LoadedModel> {
  const loadFormat = checkModelChoice(o.loadFormat, o.device);
  const quantization = checkQuantizationFlag(o.quantization);
  try {
    const m = await openRunner({
      model: o.model,
      loadFormat,
      quantization,
      tokenizer: o.tokenizer,
      device: o.device,
      maxModelLen: o.maxModelLen,
      maxNumSeqs: o.maxNumSeqs,
      defaultMaxNumSeqs: 1,
      maxNumBatchedTokens: o.maxNumBatchedTokens,
      enforceEager: o.enforceEager,
      kvCacheTokens: o.kvCacheTokens,
    }, weightLoadProgress());
    const kv = m.runner.kvCache;
    console.error(`tramontane: ${kvCacheLine(kv.numBlocks * kv.blockSize, kv.bytes ?? 0)}`);
    return { source: m.source, backend: m.backend, runner: m.runner, close: () => m.close() };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}
