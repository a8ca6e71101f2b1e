// `tramontane generate`: its option table.
import { defineCommand } from '../options/spec.js';
import { LOG_OPTIONS, MODEL_OPTIONS } from './shared.js';

export const GENERATE_SPEC = defineCommand({
  command: 'generate',
  summary: 'Generate text from a prompt (and images) on the CPU or a CUDA GPU; text streams to stdout.',
  options: {
    prompt: { kind: 'string', value: 'TEXT', group: 'prompt', help: 'the prompt: BOS then the text; with --image, the image tokens then the text, no BOS (the model card\'s base example)' },
    'prompt-tokens': { kind: 'string', value: 'ID,ID,...', group: 'prompt', help: 'the prompt as token ids, used as given; --image fills its [IMG]...[IMG_END] runs in order' },
    image: { kind: 'string', value: 'PATH|URL', multiple: true, group: 'prompt', help: 'an image for the prompt' },
    'max-tokens': { kind: 'integer', value: 'N', min: 1, default: 16, group: 'sampling', help: 'most tokens to generate (stops earlier at EOS)' },
    temperature: { kind: 'number', value: 'T', min: 0, default: 1, group: 'sampling', help: 'sampling temperature; 0 is greedy' },
    'top-p': { kind: 'number', value: 'P', min: 0, minExclusive: true, max: 1, default: 1, group: 'sampling', help: 'nucleus sampling: the smallest set of tokens whose probability reaches P' },
    'top-k': { kind: 'integer', value: 'K', min: -1, default: 0, group: 'sampling', help: 'sample among the K most likely tokens; 0 or -1: all' },
    'min-p': { kind: 'number', value: 'P', min: 0, max: 1, default: 0, group: 'sampling', help: "drop tokens less likely than P times the top token's probability" },
    seed: { kind: 'integer', value: 'S', min: 0, max: Number.MAX_SAFE_INTEGER, group: 'sampling', help: 'seed of this request\'s sampling (the same seed gives the same text)', defaultText: 'random' },
    logprobs: { kind: 'integer', value: 'K', min: 0, max: 20, group: 'output', help: 'log-probabilities of the top K tokens at each output position (with --json)' },
    'prompt-logprobs': { kind: 'integer', value: 'K', min: 0, max: 20, group: 'output', help: 'log-probabilities of the top K tokens at each prompt position (with --json)' },
    json: { kind: 'boolean', group: 'output', help: "print one object shaped like vLLM's RequestOutput (snake_case) instead of streaming the text" },
    'speculative-config': { kind: 'string', value: 'JSON', group: 'model', help: 'speculative decoding: {"method":"ngram","num_speculative_tokens":4} or {"method":"draft_model","model":DIR,"num_speculative_tokens":4}' },
    ...MODEL_OPTIONS,
    ...LOG_OPTIONS,
  },
  notes: ['Give exactly one of --prompt and --prompt-tokens. Without --model it runs the embedded tiny', 'checkpoint: random weights, meaningless text.'],
});
