// vLLM's SamplingParams with the names in camelCase and vLLM's defaults. `resolveSamplingParams`
// fills the defaults and rejects invalid values, naming the field.
import { InvalidRequestError } from './errors.js';
import type { StructuredOutputsParams } from './structured/params.js';
import { resolveStructuredOutputs } from './structured/resolveStructured.js';

/** vLLM's SamplingParams with camelCase names, resolved and validated (see resolveSamplingParams). */
export interface SamplingParams {
  /** Output sequences per prompt. */
  readonly n: number;
  /** 0 is greedy. */
  readonly temperature: number;
  readonly topP: number;
  /** 0 or -1: no top-k. */
  readonly topK: number;
  readonly minP: number;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  readonly repetitionPenalty: number;
  /** null: a fresh random seed per request. */
  readonly seed: number | null;
  readonly stop: readonly string[];
  readonly stopTokenIds: readonly number[];
  readonly ignoreEos: boolean;
  /** null: up to the model's context length. */
  readonly maxTokens: number | null;
  readonly minTokens: number;
  /** null: no logprobs; k: the sampled token's and the top k. */
  readonly logprobs: number | null;
  readonly promptLogprobs: number | null;
  readonly logitBias: ReadonlyMap<number, number> | null;
  readonly skipSpecialTokens: boolean;
  readonly includeStopStrInOutput: boolean;
  /** Constrains the output (a JSON schema, regex, choice, grammar or any JSON object); null: free. */
  readonly structuredOutputs: StructuredOutputsParams | null;
}

/** What callers pass: any subset of SamplingParams, with friendlier input types (a single stop string, a logit-bias record). */
export type SamplingParamsInput = {
  readonly [K in keyof SamplingParams]?: K extends 'stop'
    ? string | readonly string[] | null
    : K extends 'logitBias'
      ? ReadonlyMap<number, number> | Readonly<Record<string, number>> | null
      : SamplingParams[K] | null;
};

/** vLLM's max_logprobs default: the most logprobs (and prompt logprobs) a request may ask for,
 *  unless LLMOptions.maxLogprobs (`--max-logprobs`) says otherwise. */
export const MAX_LOGPROBS = 20;

/** vLLM's defaults for every sampling parameter (maxTokens 16, temperature 1, ...). */
export const DEFAULT_SAMPLING_PARAMS: SamplingParams = Object.freeze({
  n: 1,
  temperature: 1.0,
  topP: 1.0,
  topK: 0,
  minP: 0.0,
  presencePenalty: 0.0,
  frequencyPenalty: 0.0,
  repetitionPenalty: 1.0,
  seed: null,
  stop: [],
  stopTokenIds: [],
  ignoreEos: false,
  maxTokens: 16,
  minTokens: 0,
  logprobs: null,
  promptLogprobs: null,
  logitBias: null,
  skipSpecialTokens: true,
  includeStopStrInOutput: false,
  structuredOutputs: null,
});

function fail(field: string, message: string): never {
  throw new InvalidRequestError(`${field} ${message}`, field);
}

function num(field: string, v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function int(field: string, v: unknown, fallback: number): number;
function int(field: string, v: unknown, fallback: null): number | null;
function int(field: string, v: unknown, fallback: number | null): number | null {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(field, `must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function bool(field: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') fail(field, `must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function stopStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) fail('stop', 'must be a string or a list of strings');
  for (const s of list) {
    if (typeof s !== 'string') fail('stop', `must contain only strings, got ${JSON.stringify(s)}`);
    if (s.length === 0) fail('stop', 'cannot contain an empty string');
  }
  return [...(list as string[])];
}

function tokenIds(field: string, v: unknown, vocabSize: number | null): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, 'must be a list of token ids');
  for (const id of v) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) fail(field, `must contain non-negative integers, got ${JSON.stringify(id)}`);
    if (vocabSize !== null && id >= vocabSize) fail(field, `contains token id ${id}, outside the vocabulary of ${vocabSize}`);
  }
  return [...(v as number[])];
}

function logitBiasMap(v: unknown, vocabSize: number | null): Map<number, number> | null {
  if (v === undefined || v === null) return null;
  const entries: [unknown, unknown][] =
    v instanceof Map ? [...v.entries()] : typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as object) : fail('logitBias', 'must map token ids to numbers');
  const out = new Map<number, number>();
  for (const [k, bias] of entries) {
    const id = typeof k === 'number' ? k : Number(k);
    if (!Number.isSafeInteger(id) || id < 0 || (typeof k === 'string' && !/^\d+$/.test(k))) fail('logitBias', `has key ${JSON.stringify(k)}, not a token id`);
    if (vocabSize !== null && id >= vocabSize) fail('logitBias', `has token id ${id}, outside the vocabulary of ${vocabSize}`);
    if (typeof bias !== 'number' || !Number.isFinite(bias)) fail('logitBias', `value for token ${id} must be a finite number`);
    if (bias < -100 || bias > 100) fail('logitBias', `value for token ${id} must be in [-100, 100], got ${bias}`);
    out.set(id, bias);
  }
  return out;
}

/** Fills vLLM's defaults and validates; `vocabSize` (when known) bounds token ids. */
export function resolveSamplingParams(input: SamplingParamsInput = {}, vocabSize: number | null = null, maxLogprobs: number = MAX_LOGPROBS): SamplingParams {
  if (input === null || typeof input !== 'object') fail('samplingParams', 'must be an object');
  const known = new Set(Object.keys(DEFAULT_SAMPLING_PARAMS));
  for (const key of Object.keys(input)) if (!known.has(key)) fail(key, 'is not a sampling parameter');
  const d = DEFAULT_SAMPLING_PARAMS;
  const n = int('n', input.n, d.n);
  if (n < 1) fail('n', `must be at least 1, got ${n}`);
  let temperature = num('temperature', input.temperature, d.temperature);
  if (temperature < 0) fail('temperature', `must be non-negative, got ${temperature}`);
  let topP = num('topP', input.topP, d.topP);
  if (!(topP > 0 && topP <= 1)) fail('topP', `must be in (0, 1], got ${topP}`);
  let topK = int('topK', input.topK, d.topK);
  if (topK < -1) fail('topK', `must be -1 or 0 (disable) or at least 1, got ${topK}`);
  let minP = num('minP', input.minP, d.minP);
  if (minP < 0 || minP > 1) fail('minP', `must be in [0, 1], got ${minP}`);
  const presencePenalty = num('presencePenalty', input.presencePenalty, d.presencePenalty);
  if (presencePenalty < -2 || presencePenalty > 2) fail('presencePenalty', `must be in [-2, 2], got ${presencePenalty}`);
  const frequencyPenalty = num('frequencyPenalty', input.frequencyPenalty, d.frequencyPenalty);
  if (frequencyPenalty < -2 || frequencyPenalty > 2) fail('frequencyPenalty', `must be in [-2, 2], got ${frequencyPenalty}`);
  const repetitionPenalty = num('repetitionPenalty', input.repetitionPenalty, d.repetitionPenalty);
  if (!(repetitionPenalty > 0) || repetitionPenalty > 2) fail('repetitionPenalty', `must be in (0, 2], got ${repetitionPenalty}`);
  const seed = int('seed', input.seed, null);
  const maxTokens = input.maxTokens === null ? null : int('maxTokens', input.maxTokens, 16);
  if (maxTokens !== null && maxTokens < 1) fail('maxTokens', `must be at least 1, got ${maxTokens}`);
  const minTokens = int('minTokens', input.minTokens, d.minTokens);
  if (minTokens < 0) fail('minTokens', `must be non-negative, got ${minTokens}`);
  if (maxTokens !== null && minTokens > maxTokens) fail('minTokens', `must be at most maxTokens (${maxTokens}), got ${minTokens}`);
  const logprobs = int('logprobs', input.logprobs, null);
  if (logprobs !== null && (logprobs < 0 || logprobs > maxLogprobs)) fail('logprobs', `must be in [0, ${maxLogprobs}] (max_logprobs ${maxLogprobs}), got ${logprobs}`);
  const promptLogprobs = int('promptLogprobs', input.promptLogprobs, null);
  if (promptLogprobs !== null && (promptLogprobs < 0 || promptLogprobs > maxLogprobs)) fail('promptLogprobs', `must be in [0, ${maxLogprobs}] (max_logprobs ${maxLogprobs}), got ${promptLogprobs}`);
  if (temperature < 1e-5) {
    // vLLM: greedy sampling ignores the filters.
    temperature = 0;
    topP = 1;
    topK = 0;
    minP = 0;
  }
  if (topK === -1) topK = 0;
  return Object.freeze({
    n,
    temperature,
    topP,
    topK,
    minP,
    presencePenalty,
    frequencyPenalty,
    repetitionPenalty,
    seed,
    stop: stopStrings(input.stop),
    stopTokenIds: tokenIds('stopTokenIds', input.stopTokenIds, vocabSize),
    ignoreEos: bool('ignoreEos', input.ignoreEos, d.ignoreEos),
    maxTokens,
    minTokens,
    logprobs,
    promptLogprobs,
    logitBias: logitBiasMap(input.logitBias, vocabSize),
    skipSpecialTokens: bool('skipSpecialTokens', input.skipSpecialTokens, d.skipSpecialTokens),
    includeStopStrInOutput: bool('includeStopStrInOutput', input.includeStopStrInOutput, d.includeStopStrInOutput),
    structuredOutputs: resolveStructuredOutputs(input.structuredOutputs),
  });
}
