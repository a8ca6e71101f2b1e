// `tramontane serve`: its option table (vLLM's `vllm serve` spellings).
import { defineCommand } from '../options/spec.js';
import { SECURITY_OPTIONS } from './serveSecurity.js';
import { LOG_OPTIONS, MODEL_OPTIONS } from './shared.js';

export const SERVE_SPEC = defineCommand({
  command: 'serve',
  summary: 'Serve the model over an OpenAI-compatible HTTP API (vLLM\'s `vllm serve` flags).',
  positionals: { usage: '[model]', max: 1 },
  options: {
    ...MODEL_OPTIONS,
    host: { kind: 'string', value: 'HOST', default: '127.0.0.1', group: 'server', help: 'address to listen on (0.0.0.0 to expose it)' },
    port: { kind: 'integer', value: 'PORT', min: 0, max: 65535, default: 8000, group: 'server', help: 'port to listen on (0: any free port)' },
    'api-key': { kind: 'string', value: 'KEY', group: 'server', help: 'every route but /health needs "Authorization: Bearer KEY" (also from TRAMONTANE_API_KEY)' },
    'served-model-name': { kind: 'string', value: 'NAME', group: 'server', help: 'the name in /v1/models and responses', defaultText: "the model directory's name" },
    'max-body-bytes': { kind: 'integer', value: 'N', min: 1024, default: 32 * 1024 * 1024, group: 'server', help: 'largest request body (413 above)' },
    'limit-mm-per-prompt': { kind: 'string', value: 'image=N', group: 'server', help: "images per request, as vLLM's 'image=N' or '{\"image\": N}'", defaultText: 'image=16' },
    'enable-auto-tool-choice': { kind: 'boolean', group: 'server', help: 'serve tool_choice "auto" (needs --tool-call-parser mistral), as vLLM' },
    'tool-call-parser': { kind: 'choice', choices: ['mistral'], group: 'server', help: 'how tool calls are read from the output (mistral only)' },
    'max-logprobs': { kind: 'integer', value: 'N', min: 0, default: 20, group: 'server', help: "most logprobs / top_logprobs / prompt_logprobs a request may ask for; above it a 400 naming the limit (vLLM's)" },
    'return-tokens-as-token-ids': { kind: 'boolean', group: 'server', help: "logprob tokens as 'token_id:N' instead of their text (vLLM's; a token inside a multi-byte character has no text of its own)" },
    'disable-chat-page': { kind: 'boolean', group: 'server', help: 'no chat page at / (served by default; its files need no API key, the API it calls does)' },
    'tokenizer-mode': { kind: 'choice', choices: ['mistral', 'auto'], group: 'server', help: "accepted for vLLM's command lines; the tokenizer is always mistral's (tekken.json)" },
    'max-num-seqs': { kind: 'integer', value: 'N', min: 1, group: 'engine', help: 'sequences per step', defaultText: '256' },
    'max-num-batched-tokens': { kind: 'integer', value: 'N', min: 1, group: 'engine', help: 'tokens per step (chunked prefill)', defaultText: '2048' },
    'gpu-memory-utilization': { kind: 'number', value: 'F', min: 0, minExclusive: true, max: 1, group: 'engine', help: 'fraction of device memory for weights + KV cache', defaultText: '0.9' },
    'kv-cache-tokens': { kind: 'integer', value: 'N', min: 1, group: 'engine', help: 'KV-cache size in tokens, instead of a memory fraction' },
    'enable-prefix-caching': { kind: 'boolean', negatable: true, default: true, group: 'engine', help: 'reuse the KV cache of shared prompt prefixes across requests' },
    seed: { kind: 'integer', value: 'S', min: 0, max: Number.MAX_SAFE_INTEGER, group: 'engine', help: "seed of the engine's random state: requests without a seed draw theirs from it in arrival order (vLLM's --seed)", defaultText: 'random' },
    'enforce-eager': { kind: 'boolean', group: 'engine', help: 'never replay recorded CUDA graphs for decode steps' },
    'runner-thread': { kind: 'choice', choices: ['auto', 'on', 'off'], default: 'auto', group: 'engine', help: 'run the model in a worker thread so HTTP is served while a step computes (auto: on the cpu)' },
    'grammar-compile-timeout': { kind: 'number', value: 'SECONDS', min: 0, minExclusive: true, default: 30, group: 'engine', help: 'structured outputs: a grammar taking longer to compile is refused with a 400' },
    'speculative-config': { kind: 'string', value: 'JSON', group: 'engine', help: 'speculative decoding: {"method":"ngram","num_speculative_tokens":4,"prompt_lookup_max":4,"prompt_lookup_min":2} or {"method":"draft_model","model":DIR,...}' },
    ...SECURITY_OPTIONS,
    ...LOG_OPTIONS,
    'enable-log-requests': { kind: 'boolean', group: 'logging', help: 'log each request: id, prompt and output token counts, timings (the prompt text at debug level)' },
    'log-stats-interval': { kind: 'number', value: 'SECONDS', min: 0, minExclusive: true, default: 10, group: 'logging', help: 'seconds between engine stats lines (throughput, running/waiting, KV cache usage, prefix-cache hit rate), while busy' },
    'disable-log-stats': { kind: 'boolean', group: 'logging', help: 'no engine stats lines' },
  },
  notes: [
    'Image URLs: http(s) to public hosts and data: only, unless widened by the security flags (README "Security").',
    'Without a model it serves the embedded tiny checkpoint (random weights: meaningless text).',
  ],
});
