// LLM.create's loading: a model directory (either layout) -> weights on the chosen device's
// backend, the model runner with its KV cache, the Tekken tokenizer and the image encoder.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDeviceBackend } from '../backend/deviceBackend.js';
import { ImageEncoder } from '../image/index.js';
import { openCheckpoint } from '../model/checkpoint.js';
import { createRunner } from '../model/modelRunner.js';
import type { ModelRunner } from '../model/runner.js';
import { Tekkenizer } from '../tokenizer/index.js';
import { InvalidRequestError } from './errors.js';
import type { LLMComponents } from './llm.js';
import type { ImagePreprocessor } from './promptInput.js';
import { tekkenChatEncoder, tekkenEngineTokenizer, tekkenImageTokenIds } from './tekkenPort.js';

export interface LoadOptions {
  /** Model directory (HF or Mistral layout). Default: the tiny model shipped in the package. */
  readonly model?: string;
  /** A tekken.json other than the directory's own. */
  readonly tokenizer?: string;
  readonly device?: string;
  /** Longest prompt + output (default: the model's maximum positions; on the CPU at most 8192). */
  readonly maxModelLen?: number;
  /** Fraction of the device memory the KV cache may take after the weights (vLLM's). */
  readonly gpuMemoryUtilization?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  /** KV-cache size in tokens, overriding gpuMemoryUtilization. */
  readonly kvCacheTokens?: number;
  /** Name for /v1/models and responses (default: the directory name). */
  readonly servedModelName?: string;
  /** Matmul threads on the CPU. */
  readonly threads?: number;
}

/** The tiny random-weight model shipped with the package (its output is meaningless text). */
export const EMBEDDED_MODEL_DIR = fileURLToPath(new URL('../../../assets/tiny-default', import.meta.url));

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new InvalidRequestError(`${name} must be a positive integer, got ${v}`, name);
}

export async function loadComponents(o: LoadOptions): Promise<LLMComponents & { readonly defaults: { maxNumSeqs: number; maxNumBatchedTokens: number } }> {
  const dir = resolve(o.model ?? EMBEDDED_MODEL_DIR);
  positiveInt('maxModelLen', o.maxModelLen);
  positiveInt('maxNumSeqs', o.maxNumSeqs);
  positiveInt('maxNumBatchedTokens', o.maxNumBatchedTokens);
  positiveInt('kvCacheTokens', o.kvCacheTokens);
  const util = o.gpuMemoryUtilization ?? 0.9;
  if (!(util > 0 && util <= 1)) throw new InvalidRequestError(`gpuMemoryUtilization must be in (0, 1], got ${util}`, 'gpuMemoryUtilization');
  const backend = await createDeviceBackend(o.device ?? 'cpu', { threads: o.threads });
  try {
    const checkpoint = await openCheckpoint(dir, { tokenizerPath: o.tokenizer });
    const tokenizerPath = checkpoint.tokenizerPath ?? (existsSync(join(dir, 'tekken.json')) ? join(dir, 'tekken.json') : null);
    if (!tokenizerPath) throw new InvalidRequestError(`no tekken.json in ${dir}: pass a tokenizer`, 'tokenizer');
    const tekken = Tekkenizer.fromFile(tokenizerPath);
    const cfg = checkpoint.weights.config;
    // On the CPU the default context is capped (as `tramontane generate` does): pass maxModelLen for more.
    const maxModelLen = o.maxModelLen ?? (backend.name === 'cpu' ? Math.min(cfg.text.maxPositionEmbeddings, 8192) : cfg.text.maxPositionEmbeddings);
    if (maxModelLen > cfg.text.maxPositionEmbeddings) {
      throw new InvalidRequestError(`maxModelLen ${maxModelLen} is more than the model's ${cfg.text.maxPositionEmbeddings} positions`, 'maxModelLen');
    }
    const maxNumSeqs = o.maxNumSeqs ?? 256;
    // vLLM's default with chunked prefill; at least one whole sequence fits a step otherwise.
    const maxNumBatchedTokens = o.maxNumBatchedTokens ?? 2048;
    // On the CPU the cache lives in ordinary memory: keep it to what the sequences can use.
    const kvCacheTokens = o.kvCacheTokens ?? (backend.name === 'cpu' ? Math.max(maxModelLen, Math.min(maxNumSeqs * maxModelLen, 1 << 17)) : undefined);
    const inner = await createRunner({
      weights: checkpoint.weights,
      backend,
      maxModelLen,
      maxNumSeqs,
      maxNumBatchedTokens,
      kvCacheTokens,
      kvCacheMemoryFraction: util,
    });
    // Closing the runner also releases the backend (its worker threads) and the weight files.
    const runner: ModelRunner = {
      kvCache: inner.kvCache,
      limits: inner.limits,
      execute: (batch, sampling, promptLogprobs) => inner.execute(batch, sampling, promptLogprobs),
      async close() {
        await inner.close();
        await checkpoint.weights.close();
        await backend.close();
      },
    };
    let images: ImagePreprocessor | null = null;
    if (cfg.vision && tekken.imageConfig) {
      const enc = new ImageEncoder({
        patchSize: tekken.imageConfig.patchSize,
        maxImageSize: tekken.imageConfig.maxImageSize,
        spatialMergeSize: tekken.imageConfig.spatialMergeSize,
        imageTokenId: tekken.imgId,
        imageBreakTokenId: tekken.imgBreakId,
        imageEndTokenId: tekken.imgEndId,
      });
      images = { encode: (source) => enc.encode(source) };
    }
    return {
      runner,
      tokenizer: tekkenEngineTokenizer(tekken),
      imageTokenIds: tekkenImageTokenIds(tekken),
      images,
      modelName: o.servedModelName ?? (o.model === undefined ? 'tramontane-tiny' : basename(dir)),
      encodeChat: tekkenChatEncoder(tekken),
      defaults: { maxNumSeqs, maxNumBatchedTokens },
    };
  } catch (err) {
    await backend.close();
    throw err;
  }
}
