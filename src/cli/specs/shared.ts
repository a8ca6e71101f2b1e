// Option groups several commands share: the model and device, and logging.
import { DEVICES } from '../../backend/deviceBackend.js';
import { QUANTIZATIONS } from '../../model/modelSource.js';
import type { OptionTable } from '../options/spec.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** --dtype values (vLLM's spellings). What each does per backend: src/cli/dtype.ts. */
export const DTYPES = ['auto', 'bfloat16', 'float16', 'float32'] as const;

/** The model, its tokenizer, the device and the context length. */
export const MODEL_OPTIONS = {
  model: { kind: 'string', value: 'DIR', group: 'model', help: 'model directory (HF or Mistral layout), an org/name in the Hugging Face cache, or with --load-format dummy a built-in config (mistral-small-3.1-24b)', defaultText: 'the embedded tiny model (random weights)' },
  tokenizer: { kind: 'string', value: 'FILE', group: 'model', help: "a tekken.json other than the model directory's own" },
  'load-format': { kind: 'choice', choices: ['auto', 'dummy'], default: 'auto', group: 'model', help: 'auto reads the checkpoint; dummy fills seeded random weights (for benchmarks)' },
  quantization: { kind: 'choice', choices: QUANTIZATIONS, value: 'fp8', group: 'model', help: 'quantize the text linears of a bf16 checkpoint (or --load-format dummy) to FP8 with per-row scales as they load (docs/quantization.md)', defaultText: "the checkpoint's own" },
  device: { kind: 'choice', choices: DEVICES, group: 'model', help: 'backend to run on', defaultText: 'cuda when a driver and a GPU are present, else cpu' },
  dtype: { kind: 'choice', choices: DTYPES, default: 'auto', group: 'model', help: "compute type (vLLM's): auto is bfloat16 on cuda and float32 on cpu; bfloat16 only on cuda, float32 only on cpu; float16 is refused (no float16 kernels: float16 checkpoints run as bfloat16 on cuda)" },
  'max-model-len': { kind: 'integer', value: 'N', humanReadable: true, min: 2, group: 'model', help: 'longest prompt + output in tokens; 8k = 8000, 32K = 32768 as vLLM', defaultText: "the model's, at most 8192 on the cpu" },
} as const satisfies OptionTable;

/** --log-level and --log-format (serve, generate, bench). */
export const LOG_OPTIONS = {
  'log-level': { kind: 'choice', choices: LOG_LEVELS, default: 'info', group: 'logging', help: 'least severe log level written to stderr' },
  'log-format': { kind: 'choice', choices: ['text', 'json'], default: 'text', group: 'logging', help: "log lines as text, or as pino's JSON objects (one a line)" },
} as const satisfies OptionTable;
