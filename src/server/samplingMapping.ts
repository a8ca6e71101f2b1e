// From an API request body (snake_case) to the engine's sampling params (camelCase), and the
// engine's field names back to the API's for error messages.
import { InvalidRequestError } from '../engine/errors.js';
import { resolveSamplingParams, type SamplingParams, type SamplingParamsInput } from '../engine/samplingParams.js';
import type { ChatRequest, CompletionRequest } from './protocol.js';
import { ApiError } from './errors.js';
import { structuredFromBody } from './structuredMapping.js';

export function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

type Common = CompletionRequest | ChatRequest;

function commonParams(b: Common): SamplingParamsInput {
  return {
    n: b.n,
    temperature: b.temperature,
    topP: b.top_p,
    topK: b.top_k,
    minP: b.min_p,
    presencePenalty: b.presence_penalty,
    frequencyPenalty: b.frequency_penalty,
    repetitionPenalty: b.repetition_penalty,
    seed: b.seed,
    stop: b.stop,
    stopTokenIds: b.stop_token_ids,
    ignoreEos: b.ignore_eos,
    minTokens: b.min_tokens,
    logitBias: b.logit_bias,
    skipSpecialTokens: b.skip_special_tokens,
    includeStopStrInOutput: b.include_stop_str_in_output,
    promptLogprobs: b.prompt_logprobs,
    structuredOutputs: structuredFromBody(b as Record<string, unknown>) as SamplingParamsInput['structuredOutputs'],
  };
}

/** What a request's sampling params are checked against: the model's vocabulary and the
 *  server's --max-logprobs. */
export interface SamplingLimits {
  readonly vocabSize: number;
  readonly maxLogprobs: number;
}

/** Validates through the engine's rules, reporting fields by their API names. */
export function toSamplingParams(input: SamplingParamsInput, limits: SamplingLimits): SamplingParams {
  try {
    return resolveSamplingParams(
      Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as SamplingParamsInput,
      limits.vocabSize,
      limits.maxLogprobs,
    );
  } catch (err) {
    if (err instanceof InvalidRequestError && err.field) {
      const api = err.field.split('.').map(snakeCase).join('.');
      throw new ApiError(400, err.message.replace(err.field, api), api);
    }
    throw err;
  }
}

/** vLLM's max_logprobs check, answered with the flag that sets the limit. */
function checkLogprobs(field: string, value: number | null | undefined, limits: SamplingLimits): void {
  if (value != null && value > limits.maxLogprobs) {
    throw new ApiError(400, `${field}: requested ${value} logprobs, more than this server's limit of ${limits.maxLogprobs} (--max-logprobs)`, field);
  }
}

export function completionParams(b: CompletionRequest, limits: SamplingLimits): SamplingParams {
  checkLogprobs('logprobs', b.logprobs, limits);
  checkLogprobs('prompt_logprobs', b.prompt_logprobs, limits);
  if (b.best_of != null && b.best_of !== (b.n ?? 1)) throw new ApiError(400, 'best_of different from n is not supported', 'best_of');
  return toSamplingParams(
    {
      ...commonParams(b),
      // OpenAI's completions default is 16 tokens; null means up to the context length.
      maxTokens: b.max_tokens === null ? null : (b.max_tokens ?? 16),
      logprobs: b.logprobs ?? null,
      promptLogprobs: b.prompt_logprobs ?? (b.echo && b.logprobs != null ? b.logprobs : null),
    },
    limits,
  );
}

export function chatParams(b: ChatRequest, limits: SamplingLimits): SamplingParams {
  checkLogprobs('top_logprobs', b.top_logprobs, limits);
  checkLogprobs('prompt_logprobs', b.prompt_logprobs, limits);
  if (b.top_logprobs != null && !b.logprobs && b.top_logprobs > 0) throw new ApiError(400, 'top_logprobs needs logprobs set to true', 'top_logprobs');
  return toSamplingParams(
    {
      ...commonParams(b),
      maxTokens: b.max_completion_tokens ?? b.max_tokens ?? null,
      logprobs: b.logprobs ? (b.top_logprobs ?? 0) : null,
    },
    limits,
  );
}
