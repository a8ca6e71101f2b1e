// Shared by `generate` and `bench latency`: resolve the model directory (default: the embedded
// tiny checkpoint), open it, and build a CPU-backend ModelRunner over it.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CpuBackend } from '../backend/cpu/cpuBackend.js';
import { openCheckpoint, type Checkpoint } from '../model/checkpoint.js';
import { createRunner } from '../model/modelRunner.js';
import { parameterCount } from '../model/parameterCount.js';
import type { ModelRunner } from '../model/runner.js';
import { CliError } from './errors.js';

/** assets/tiny-default in the package (dist/src/cli/ -> package root). */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../assets/tiny-default', import.meta.url));

export interface LoadedModel {
  readonly checkpoint: Checkpoint;
  readonly backend: CpuBackend;
  readonly runner: ModelRunner;
  close(): Promise<void>;
}

export interface LoadModelOptions {
  readonly model?: string;
  readonly tokenizer?: string;
  /** Default: the model's max positions, capped at 8192 on the CPU. */
  readonly maxModelLen?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
}

export async function loadModel(o: LoadModelOptions): Promise<LoadedModel> {
  const dir = o.model ?? DEFAULT_MODEL_DIR;
  if (!existsSync(dir)) throw new CliError(`model directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`model path ${dir} is not a directory`);
  if (o.tokenizer !== undefined && !existsSync(o.tokenizer)) throw new CliError(`tokenizer file ${o.tokenizer} does not exist`);
  let checkpoint: Checkpoint;
  try {
    checkpoint = await openCheckpoint(dir, o.tokenizer === undefined ? {} : { tokenizerPath: o.tokenizer });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const cfg = checkpoint.weights.config;
  const maxModelLen = o.maxModelLen ?? Math.min(cfg.text.maxPositionEmbeddings, 8192);
  if (maxModelLen > cfg.text.maxPositionEmbeddings) {
    throw new CliError(`--max-model-len ${maxModelLen} exceeds the model's ${cfg.text.maxPositionEmbeddings} positions`);
  }
  const backend = new CpuBackend();
  // The CPU backend holds weights as f32: refuse up front what cannot fit, before reading GBs.
  const weightBytes = parameterCount(cfg) * 4;
  if (weightBytes > backend.memoryInfo().freeBytes) {
    await backend.close();
    await checkpoint.weights.close();
    const gb = (b: number) => (b / 1024 ** 3).toFixed(1);
    throw new CliError(
      `${dir}: ${gb(weightBytes)} GiB of f32 weights do not fit the CPU backend's ${gb(backend.memoryInfo().freeBytes)} GiB (at most 4 GiB of WebAssembly memory); use a smaller model or the CUDA backend`,
    );
  }
  let runner: ModelRunner;
  try {
    await backend.whenThreadsReady();
    runner = await createRunner({
      weights: checkpoint.weights,
      backend,
      maxModelLen,
      maxNumSeqs: o.maxNumSeqs ?? 1,
      maxNumBatchedTokens: o.maxNumBatchedTokens ?? Math.min(maxModelLen, 2048),
    });
  } catch (e) {
    await backend.close();
    await checkpoint.weights.close();
    throw new CliError((e as Error).message);
  }
  return {
    checkpoint,
    backend,
    runner,
    async close() {
      await runner.close();
      await backend.close();
      await checkpoint.weights.close();
    },
  };
}
