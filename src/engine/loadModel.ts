// LLM.create's loading: a model directory (either layout) -> weights on the chosen device's
// backend, the model runner with its KV cache, the Tekken tokenizer and the image encoder.
import { basename, resolve } from 'node:path';
import { defaultDevice, deviceTraits } from '../backend/deviceBackend.js';
import { ImageEncoder } from '../image/index.js';
import type { LoadProgressListener } from '../model/loadProgress.js';
import { checkQuantizationOption, EMBEDDED_MODEL_DIR, openModelSource, type LoadFormat, type Quantization } from '../model/modelSource.js';
import type { ModelRunner } from '../model/runner.js';
import { Tekkenizer } from '../tokenizer/index.js';
import { imageTokenIdsOf } from '../tokenizer/requestEncoding.js';
import { InvalidRequestError } from './errors.js';
import type { ImagePreprocessor, ImageTokenIds } from './promptInput.js';
import { envSwitches, runnerSizes, type RunnerSpec } from './composition.js';
import { openLocalRunner } from './localRunner.js';
import { startRunnerThread } from './runnerThread.js';
import { tekkenChatEncoder, tekkenEngineTokenizer } from './tekkenPort.js';
import type { ChatEncoder } from './chatPort.js';
import type { EngineTokenizer } from './tokenizerPort.js';
import { parseSpeculativeConfig, type SpeculativeConfig } from './speculative/config.js';
import { createSpeculator } from './speculative/createSpeculator.js';
import type { Speculator } from './speculative/speculator.js';

/** The pieces an LLM runs on: a loaded model runner, its tokenizer, its image preprocessor. */
export interface LLMComponents {
  readonly runner: ModelRunner;
  readonly tokenizer: EngineTokenizer;
  readonly imageTokenIds: ImageTokenIds;
  /** null for a text-only model. */
  readonly images: ImagePreprocessor | null;
  /** The name requests and /v1/models use. */
  readonly modelName: string;
  /** The chat template; null for a model without one. */
  readonly encodeChat: ChatEncoder | null;
  /** Id of [TOOL_CALLS] (the tool-call parser's switch); null/absent: no tool calling. */
  readonly toolCallsTokenId?: number | null;
}

/** vLLM's default max_num_seqs. */
const DEFAULT_MAX_NUM_SEQS = 256;

export interface LoadOptions {
  /** Model directory (HF or Mistral layout), or with loadFormat 'dummy' a built-in config name
   *  ('mistral-small-3.1-24b'). Default: the tiny model shipped in the package. */
  readonly model?: string;
  /** 'auto' reads the checkpoint; 'dummy' fills seeded random weights (vLLM's --load-format). */
  readonly loadFormat?: LoadFormat;
  /** 'fp8': quantize a bf16 checkpoint's (or dummy model's) text linear weights to FP8 with
   *  per-row scales as they load (vLLM's --quantization fp8). An FP8 checkpoint needs nothing. */
  readonly quantization?: Quantization;
  /** A tekken.json other than the directory's own. */
  readonly tokenizer?: string;
  /** 'cpu' | 'cuda'; default cuda when a driver and a GPU are present, else cpu. */
  readonly device?: string;
  /** Longest prompt + output (default: the model's maximum positions; on the CPU at most 8192). */
  readonly maxModelLen?: number;
  /** Fraction of the device's memory the process may use, KV cache included (vLLM's; default 0.9). */
  readonly gpuMemoryUtilization?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  /** KV-cache size in tokens, overriding gpuMemoryUtilization. */
  readonly kvCacheTokens?: number;
  /** Name for /v1/models and responses (default: the directory name). */
  readonly servedModelName?: string;
  /** Matmul threads on the CPU. */
  readonly threads?: number;
  /** Run the model in a worker thread (default: when the device's ops block the calling thread,
   *  as the CPU's do), so the event loop serves HTTP while a step computes. */
  readonly runnerThread?: boolean;
  /** Never replay recorded decode graphs (vLLM's enforce_eager; default: TRAMONTANE_ENFORCE_EAGER=1). */
  readonly enforceEager?: boolean;
  /** vLLM's speculative_config: `{ method: 'ngram', num_speculative_tokens, prompt_lookup_max,
   *  prompt_lookup_min }` or `{ method: 'draft_model', model, num_speculative_tokens }` (a JSON
   *  string, snake_case or camelCase keys). */
  readonly speculativeConfig?: SpeculativeConfig | string | Record<string, unknown>;
  /** Called as the weights load: bytes and tensors done, elapsed time (src/model/loadProgress.ts). */
  readonly onProgress?: LoadProgressListener;
}

export async function loadComponents(
  o: LoadOptions,
): Promise<LLMComponents & { readonly defaults: { maxNumSeqs: number; maxNumBatchedTokens: number }; readonly speculator: Speculator | null }> {
  const model = o.model ?? EMBEDDED_MODEL_DIR;
  const speculative = o.speculativeConfig === undefined ? null : parseSpeculativeConfig(o.speculativeConfig);
  const util = o.gpuMemoryUtilization ?? 0.9;
  if (!(util > 0 && util <= 1)) throw new InvalidRequestError(`gpuMemoryUtilization must be in (0, 1], got ${util}`, 'gpuMemoryUtilization');
  let quantization: Quantization | undefined;
  try {
    quantization = checkQuantizationOption(o.quantization);
  } catch (e) {
    throw new InvalidRequestError((e as Error).message, 'quantization');
  }
  const device = o.device ?? (await defaultDevice());
  const traits = deviceTraits(device); // unknown devices fail here, before any file is read
  const source = await openModelSource({ model, loadFormat: o.loadFormat ?? 'auto', tokenizerPath: o.tokenizer });
  let runner: ModelRunner | null = null;
  let draftRunner: ModelRunner | null = null;
  let sourceOpen = true; // until closed here or handed to the local runner
  try {
    if (!source.tokenizerPath) throw new InvalidRequestError(`no tekken.json for ${source.origin}: pass a tokenizer`, 'tokenizer');
    const tekken = Tekkenizer.fromFile(source.tokenizerPath);
    const cfg = source.config;
    const sizes = runnerSizes(cfg.text.maxPositionEmbeddings, traits, o, DEFAULT_MAX_NUM_SEQS);
    const { maxNumSeqs, maxNumBatchedTokens } = sizes;
    const spec: RunnerSpec = {
      model,
      loadFormat: o.loadFormat ?? 'auto',
      ...(quantization ? { quantization } : {}),
      tokenizer: o.tokenizer,
      device,
      threads: o.threads,
      ...sizes,
      gpuMemoryUtilization: util,
      enforceEager: o.enforceEager,
      switches: envSwitches(),
    };
    // The source gave the config and tokenizer; the runner opens the weights itself (here or
    // in its thread).
    sourceOpen = false;
    await source.weights.close();
    const open = (s: RunnerSpec, onProgress: LoadProgressListener | undefined) => (o.runnerThread ?? traits.blocksCallingThread ? startRunnerThread(s, onProgress) : openLocalRunner(s, onProgress));
    if (speculative?.method === 'draft_model') {
      // The draft first, with a cache of its own size, so the target's memory plan sees it.
      const draftKv = Math.max(sizes.maxModelLen, Math.min(maxNumSeqs * sizes.maxModelLen, 1 << 17));
      // The draft stays as its checkpoint is (no load-time quantization).
      const draftSpec: RunnerSpec = { ...spec, model: speculative.model, loadFormat: speculative.loadFormat ?? spec.loadFormat, quantization: undefined, tokenizer: undefined, kvCacheTokens: draftKv };
      try {
        draftRunner = await open(draftSpec, undefined);
      } catch (err) {
        throw new InvalidRequestError(`speculative config: the draft model ${speculative.model}: ${err instanceof Error ? err.message : String(err)}`, 'speculativeConfig');
      }
    }
    runner = await open(spec, o.onProgress);
    let images: ImagePreprocessor | null = null;
    if (cfg.vision) {
      // mistral_common sizes images by the tokenizer's image block; the model config otherwise.
      const enc = tekken.imageConfig
        ? new ImageEncoder({
            patchSize: tekken.imageConfig.patchSize,
            maxImageSize: tekken.imageConfig.maxImageSize,
            spatialMergeSize: tekken.imageConfig.spatialMergeSize,
            imageTokenId: tekken.imgId,
            imageBreakTokenId: tekken.imgBreakId,
            imageEndTokenId: tekken.imgEndId,
          })
        : ImageEncoder.fromModelConfig(cfg);
      images = { encode: (src, options) => enc.encode(src, options) };
    }
    let speculator: Speculator | null = null;
    if (speculative) {
      const d = draftRunner;
      draftRunner = null; // the speculator owns it now (it closes it on failure too)
      speculator = await createSpeculator(speculative, { vocabSize: runner.limits.vocabSize, eosTokenId: tekken.eosId }, d);
    }
    return {
      speculator,
      runner,
      tokenizer: tekkenEngineTokenizer(tekken),
      imageTokenIds: imageTokenIdsOf(tekken),
      images,
      modelName: o.servedModelName ?? (o.model === undefined ? 'tramontane-tiny' : basename(resolve(model))),
      encodeChat: tekkenChatEncoder(tekken),
      toolCallsTokenId: tekken.specialId('[TOOL_CALLS]'),
      defaults: { maxNumSeqs, maxNumBatchedTokens },
    };
  } catch (err) {
    if (draftRunner) await draftRunner.close();
    if (runner) await runner.close();
    else if (sourceOpen) await source.weights.close();
    throw err;
  }
}
