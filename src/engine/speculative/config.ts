// vLLM's --speculative-config (JSON, snake_case keys) and LLM.create's speculativeConfig
// (either case), validated and bounded before anything loads.
import { InvalidRequestError } from '../errors.js';

/** Most draft tokens one sequence may verify per step. */
export const MAX_SPECULATIVE_TOKENS = 16;
/** Longest n-gram prompt lookup matches. */
export const MAX_PROMPT_LOOKUP = 64;

export interface NgramSpeculation {
  readonly method: 'ngram';
  readonly numSpeculativeTokens: number;
  readonly promptLookupMax: number;
  readonly promptLookupMin: number;
}

export interface DraftModelSpeculation {
  readonly method: 'draft_model';
  readonly numSpeculativeTokens: number;
  /** Directory of the draft checkpoint (or a built-in config name with loadFormat 'dummy'). */
  readonly model: string;
  /** 'auto' | 'dummy' (default: the target's load format). */
  readonly loadFormat?: 'auto' | 'dummy';
}

/** Benchmarking only (`tramontane bench latency`): proposes a recorded continuation of the
 *  target, each proposed token replaced by a wrong one with probability 1 - acceptRate. It
 *  measures the verify mechanism at a chosen acceptance; it is refused everywhere else. */
export interface ReplaySpeculation {
  readonly method: 'replay';
  readonly numSpeculativeTokens: number;
  readonly acceptRate: number;
  /** Back off after rejected proposals as n-gram does (measures that path's cost at 0%). */
  readonly adaptive: boolean;
}

export type SpeculativeConfig = NgramSpeculation | DraftModelSpeculation | ReplaySpeculation;

const KEYS: Record<string, string> = {
  method: 'method',
  num_speculative_tokens: 'numSpeculativeTokens',
  numSpeculativeTokens: 'numSpeculativeTokens',
  prompt_lookup_max: 'promptLookupMax',
  promptLookupMax: 'promptLookupMax',
  prompt_lookup_min: 'promptLookupMin',
  promptLookupMin: 'promptLookupMin',
  model: 'model',
  load_format: 'loadFormat',
  loadFormat: 'loadFormat',
  replay_accept_rate: 'acceptRate',
  acceptRate: 'acceptRate',
  replay_adaptive: 'adaptive',
  adaptive: 'adaptive',
};

/** Parses a JSON string or an object; `allowReplay` only for the latency benchmark. */
export function parseSpeculativeConfig(input: unknown, options: { readonly allowReplay?: boolean } = {}): SpeculativeConfig {
  const field = 'speculativeConfig';
  const bad = (msg: string): never => {
    throw new InvalidRequestError(`speculative config: ${msg}`, field);
  };
  let raw = input;
  if (typeof input === 'string') {
    if (input.length > 4096) bad('longer than 4096 characters');
    try {
      raw = JSON.parse(input) as unknown;
    } catch {
      bad(`'${input.slice(0, 80)}' is not valid JSON`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('must be a JSON object');
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const name = KEYS[k];
    if (!name) bad(`unknown key '${k}' (known: method, num_speculative_tokens, prompt_lookup_max, prompt_lookup_min, model, load_format)`);
    o[name] = v;
  }
  const int = (name: string, v: unknown, lo: number, hi: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(`${name} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  const k = int('num_speculative_tokens', o.numSpeculativeTokens, 1, MAX_SPECULATIVE_TOKENS);
  const allowed = (keys: string[]) => {
    for (const key of Object.keys(o)) if (!keys.includes(key)) bad(`'${key}' does not apply to method '${String(o.method)}'`);
  };
  switch (o.method) {
    case 'ngram': {
      allowed(['method', 'numSpeculativeTokens', 'promptLookupMax', 'promptLookupMin']);
      const max = int('prompt_lookup_max', o.promptLookupMax ?? 4, 1, MAX_PROMPT_LOOKUP);
      const min = int('prompt_lookup_min', o.promptLookupMin ?? Math.min(2, max), 1, MAX_PROMPT_LOOKUP);
      if (min > max) bad(`prompt_lookup_min ${min} is more than prompt_lookup_max ${max}`);
      return { method: 'ngram', numSpeculativeTokens: k, promptLookupMax: max, promptLookupMin: min };
    }
    case 'draft_model': {
      allowed(['method', 'numSpeculativeTokens', 'model', 'loadFormat']);
      if (typeof o.model !== 'string' || o.model.length === 0 || o.model.length > 4096) bad('draft_model needs "model": the draft checkpoint directory');
      if (o.loadFormat !== undefined && o.loadFormat !== 'auto' && o.loadFormat !== 'dummy') bad(`load_format must be 'auto' or 'dummy', got ${JSON.stringify(o.loadFormat)}`);
      return { method: 'draft_model', numSpeculativeTokens: k, model: o.model as string, loadFormat: o.loadFormat as 'auto' | 'dummy' | undefined };
    }
    case 'replay': {
      if (!options.allowReplay) bad("method 'replay' is for `tramontane bench latency` only");
      allowed(['method', 'numSpeculativeTokens', 'acceptRate', 'adaptive']);
      const r = o.acceptRate ?? 1;
      if (typeof r !== 'number' || !(r >= 0 && r <= 1)) bad(`replay_accept_rate must be in [0, 1], got ${JSON.stringify(r)}`);
      if (o.adaptive !== undefined && typeof o.adaptive !== 'boolean') bad('replay_adaptive must be true or false');
      return { method: 'replay', numSpeculativeTokens: k, acceptRate: r as number, adaptive: o.adaptive === true };
    }
    default:
      return bad(`method must be 'ngram' or 'draft_model', got ${JSON.stringify(o.method)}`);
  }
}
