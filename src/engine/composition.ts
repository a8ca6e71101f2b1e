// The composition root: the one place that turns what a caller asked for (a model, a device
// name, sizes, switches) into a device Backend and a ModelRunner on it. The library
// (LLM.create), the server (through LLM) and the CLI (bench latency) all come through here;
// model/ only ever receives the Backend. The device's defaults (context length and KV cache
// in host memory) are computed here once, by runnerSizes().
import type { Backend } from '../backend/backend.js';
import { createDeviceBackend, defaultDevice, deviceTraits, type DeviceTraits } from '../backend/deviceBackend.js';
import type { LoadProgressListener } from '../model/loadProgress.js';
import { loadModelRunner, type LoadedModelRunner } from '../model/loadModelRunner.js';
import { KV_BLOCK_SIZE } from '../model/modelRunner.js';
import { openModelSource, type LoadFormat, type Quantization } from '../model/modelSource.js';
import { InvalidRequestError } from './errors.js';

/**
 * Process-wide switches from the environment, for A/B measurements. They are read here and
 * nowhere else, then passed down as options:
 *   TRAMONTANE_ENFORCE_EAGER=1        never replay recorded decode graphs (when enforceEager is not given)
 *   TRAMONTANE_CUDA_BLOCKING_WAIT=1   CUDA: wait in cuStreamSynchronize instead of polling an event
 *   TRAMONTANE_GEMV_SPLITK_MAX_N=N    CUDA: the split-K gemv threshold (default 8192; 0 disables)
 *   TRAMONTANE_FP8_SKINNY=mma|gemv    CUDA: the FP8 kernel for m <= 16 (default mma: tensor cores)
 *   TRAMONTANE_PDL=0                  CUDA: launch kernels without programmatic dependent launch
 *   TRAMONTANE_FP8_SPLITK_BYTES=N     CUDA: the FP8 skinny kernel's split-K piece (default 8192; 0 disables)
 *   TRAMONTANE_FP8_PRELOAD=0          CUDA: the FP8 skinny kernel reads no weights before its launch wait
 *   TRAMONTANE_FP8_BF16_GEMV_ROWS=N  CUDA: FP8 linears of <= N rows take the GEMV on bf16 activations (default 1)
 */
export interface EnvSwitches {
  readonly enforceEager: boolean;
  readonly cudaBlockingWait: boolean;
  /** false: TRAMONTANE_PDL=0; undefined: the backend's default. */
  readonly cudaProgrammaticLaunch?: boolean;
  readonly fp8SplitKBytes?: number;
  /** false: TRAMONTANE_FP8_PRELOAD=0. */
  readonly fp8WeightPreload?: boolean;
  readonly fp8Bf16GemvMaxRows?: number;
  readonly gemvSplitKMaxN?: number;
  readonly fp8SkinnyKernel?: 'mma' | 'gemv';
}

function optionalNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be an integer >= 0 (got ${v})`);
  return n;
}

/** The TRAMONTANE_* environment switches (A/B settings for benchmarks), parsed. */
export function envSwitches(env: NodeJS.ProcessEnv = process.env): EnvSwitches {
  const splitK = env.TRAMONTANE_GEMV_SPLITK_MAX_N;
  const skinny = env.TRAMONTANE_FP8_SKINNY;
  if (skinny !== undefined && skinny !== '' && skinny !== 'mma' && skinny !== 'gemv') throw new Error(`TRAMONTANE_FP8_SKINNY must be mma or gemv (got ${skinny})`);
  return {
    enforceEager: env.TRAMONTANE_ENFORCE_EAGER === '1',
    cudaBlockingWait: env.TRAMONTANE_CUDA_BLOCKING_WAIT === '1',
    cudaProgrammaticLaunch: env.TRAMONTANE_PDL === '0' ? false : undefined,
    fp8SplitKBytes: optionalNumber(env, 'TRAMONTANE_FP8_SPLITK_BYTES'),
    fp8WeightPreload: env.TRAMONTANE_FP8_PRELOAD === '0' ? false : undefined,
    fp8Bf16GemvMaxRows: optionalNumber(env, 'TRAMONTANE_FP8_BF16_GEMV_ROWS'),
    gemvSplitKMaxN: splitK !== undefined && splitK !== '' ? Number(splitK) : undefined,
    fp8SkinnyKernel: skinny === 'mma' || skinny === 'gemv' ? skinny : undefined,
  };
}

/** vLLM's default token budget of a step with chunked prefill. */
export const DEFAULT_MAX_NUM_BATCHED_TOKENS = 2048;
/** In host memory the default context is capped (pass maxModelLen for more). */
export const HOST_MAX_MODEL_LEN = 8192;
/** In host memory the default KV cache holds at most this many tokens (beyond one sequence). */
export const HOST_KV_CACHE_TOKENS = 1 << 17;

export interface SizeRequest {
  readonly maxModelLen?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  readonly kvCacheTokens?: number;
}

/** The sizes a runner is built with: context length, sequences and tokens per step, KV cache. */
export interface RunnerSizes {
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  /** undefined: the runner sizes the cache from the device's free memory. */
  readonly kvCacheTokens: number | undefined;
}

/**
 * The sizes a runner is built with: what was asked for, else the device's defaults. In host
 * memory the context defaults to at most HOST_MAX_MODEL_LEN and the KV cache to what the
 * sequences can use (maxNumSeqs sequences of whole blocks, at most HOST_KV_CACHE_TOKENS, at
 * least one sequence) rather than a memory fraction. `defaultMaxNumSeqs` is the caller's.
 */
export function runnerSizes(maxPositions: number, traits: DeviceTraits, req: SizeRequest, defaultMaxNumSeqs: number): RunnerSizes {
  for (const name of ['maxModelLen', 'maxNumSeqs', 'maxNumBatchedTokens', 'kvCacheTokens'] as const) {
    const v = req[name];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new InvalidRequestError(`${name} must be a positive integer, got ${v}`, name);
  }
  const maxModelLen = req.maxModelLen ?? (traits.hostMemory ? Math.min(maxPositions, HOST_MAX_MODEL_LEN) : maxPositions);
  if (maxModelLen > maxPositions) throw new InvalidRequestError(`maxModelLen ${maxModelLen} is more than the model's ${maxPositions} positions`, 'maxModelLen');
  const maxNumSeqs = req.maxNumSeqs ?? defaultMaxNumSeqs;
  const perSeq = Math.ceil(maxModelLen / KV_BLOCK_SIZE) * KV_BLOCK_SIZE; // whole blocks
  const kvCacheTokens = req.kvCacheTokens ?? (traits.hostMemory ? Math.max(perSeq, Math.min(maxNumSeqs * perSeq, HOST_KV_CACHE_TOKENS)) : undefined);
  return { maxModelLen, maxNumSeqs, maxNumBatchedTokens: req.maxNumBatchedTokens ?? DEFAULT_MAX_NUM_BATCHED_TOKENS, kvCacheTokens };
}

/** Everything needed to build a runner (plain data: it also crosses to a worker thread). Sizes
 *  left out take runnerSizes' defaults with `defaultMaxNumSeqs`. */
export interface RunnerSpec extends SizeRequest {
  /** A model directory or built-in config name (default: the embedded tiny model). */
  readonly model?: string;
  readonly loadFormat: LoadFormat;
  /** 'fp8': quantize a dense checkpoint's text linears at load time (vLLM's --quantization). */
  readonly quantization?: Quantization;
  readonly tokenizer?: string;
  /** Default: cuda when a driver and a GPU are present, else cpu. */
  readonly device?: string;
  readonly threads?: number;
  readonly defaultMaxNumSeqs?: number;
  readonly gpuMemoryUtilization?: number;
  /** Default: TRAMONTANE_ENFORCE_EAGER (see envSwitches). */
  readonly enforceEager?: boolean;
  /** Default: envSwitches(). */
  readonly switches?: EnvSwitches;
}

/** A loaded runner with the device it runs on. */
export interface OpenedRunner extends LoadedModelRunner {
  readonly device: string;
  readonly sizes: RunnerSizes;
  /** Closes the runner, the weight source and the backend. */
  close(): Promise<void>;
}

/** Picks the device, creates its backend and loads the model onto it. */
export async function openRunner(spec: RunnerSpec, onProgress?: LoadProgressListener): Promise<OpenedRunner> {
  const switches = spec.switches ?? envSwitches();
  const device = spec.device ?? (await defaultDevice());
  const traits = deviceTraits(device); // unknown devices fail here, before any file is read
  const source = await openModelSource({ model: spec.model, loadFormat: spec.loadFormat, tokenizerPath: spec.tokenizer });
  let backend: Backend | null = null;
  try {
    const sizes = runnerSizes(source.config.text.maxPositionEmbeddings, traits, spec, spec.defaultMaxNumSeqs ?? 1);
    backend = await createDeviceBackend(device, { threads: spec.threads, cudaBlockingWait: switches.cudaBlockingWait, cudaProgrammaticLaunch: switches.cudaProgrammaticLaunch, fp8SplitKBytes: switches.fp8SplitKBytes, fp8WeightPreload: switches.fp8WeightPreload, fp8Bf16GemvMaxRows: switches.fp8Bf16GemvMaxRows, gemvSplitKMaxN: switches.gemvSplitKMaxN, fp8SkinnyKernel: switches.fp8SkinnyKernel });
    const loaded = await loadModelRunner({
      source,
      backend,
      ...sizes,
      gpuMemoryUtilization: spec.gpuMemoryUtilization,
      quantization: spec.quantization,
      enforceEager: spec.enforceEager ?? switches.enforceEager,
      onProgress,
    });
    const b = backend;
    return {
      ...loaded,
      device,
      sizes,
      async close() {
        await loaded.close();
        await b.close();
      },
    };
  } catch (err) {
    await backend?.close();
    await source.weights.close();
    throw err;
  }
}
