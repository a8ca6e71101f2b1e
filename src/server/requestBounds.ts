// Limits on what one request may ask for, checked on the parsed body before the schema runs:
// every client-controlled list is bounded, and the long ones (token ids, prompt lists) are
// type-checked here element by element, stopping at the first bad one, so that a wrong body
// costs O(1) issues in the validator rather than one per element.
import { ApiError } from './errors.js';
import { chatMessage, describeIssues } from './protocol.js';

export interface RequestLimits {
  /** Token ids in one prompt (or /detokenize list): the context length. */
  readonly maxPromptTokens: number;
  /** Sequences one request may start: prompts x n. */
  readonly maxFanout: number;
  /** Characters of text in one request (prompts, message texts): a prompt longer than the
   *  context in tokens is refused later anyway, but tokenising it would block the server. */
  readonly maxTextChars: number;
  readonly maxMessages: number;
  /** Content parts of all messages of a request together. */
  readonly maxContentParts: number;
  readonly maxStop: number;
  readonly maxStopTokenIds: number;
  readonly maxLogitBias: number;
}

/** Defaults from the context length and the fan-out cap. */
export function defaultRequestLimits(maxModelLen: number, maxFanout: number): RequestLimits {
  return {
    maxPromptTokens: maxModelLen,
    maxFanout,
    maxTextChars: Math.max(maxModelLen * 32, 1 << 16),
    maxMessages: 4096,
    maxContentParts: 4096,
    maxStop: 64,
    maxStopTokenIds: 1024,
    maxLogitBias: 1024,
  };
}

type Body = Record<string, unknown>;

function tooMany(param: string, what: string, limit: number, flag = ''): ApiError {
  return new ApiError(400, `${param}: more than ${limit} ${what}${flag ? ` (${flag})` : ''}`, param);
}

/** Token ids: an array of non-negative safe integers, at most `max` long. */
function checkTokenIds(v: unknown[], param: string, max: number): void {
  if (v.length > max) throw new ApiError(400, `${param}: ${v.length} token ids, more than the maximum context length of ${max}`, param);
  for (let i = 0; i < v.length; i++) {
    const t = v[i];
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
      throw new ApiError(400, `${param}.${i}: a token id must be a non-negative integer`, `${param}.${i}`);
    }
  }
}

function textChars(s: unknown): number {
  return typeof s === 'string' ? s.length : 0;
}

function checkText(chars: number, limits: RequestLimits, param: string): void {
  if (chars > limits.maxTextChars) {
    throw new ApiError(400, `${param}: ${chars} characters of text, more than the limit of ${limits.maxTextChars} for a context of ${limits.maxPromptTokens} tokens`, param);
  }
}

/** stop, stop_token_ids, logit_bias, n (the fields both generation routes share). */
function checkSampling(b: Body, limits: RequestLimits): void {
  if (Array.isArray(b.stop)) {
    if (b.stop.length > limits.maxStop) throw tooMany('stop', 'stop strings', limits.maxStop);
    const bad = b.stop.findIndex((s) => typeof s !== 'string');
    if (bad >= 0) throw new ApiError(400, `stop.${bad}: a stop sequence must be a string`, `stop.${bad}`);
  }
  if (Array.isArray(b.stop_token_ids)) {
    if (b.stop_token_ids.length > limits.maxStopTokenIds) throw tooMany('stop_token_ids', 'token ids', limits.maxStopTokenIds);
    checkTokenIds(b.stop_token_ids, 'stop_token_ids', limits.maxStopTokenIds);
  }
  const bias = b.logit_bias;
  if (bias !== null && typeof bias === 'object' && !Array.isArray(bias)) {
    let count = 0;
    for (const k in bias) {
      if (!Object.hasOwn(bias, k)) continue;
      if (++count > limits.maxLogitBias) throw tooMany('logit_bias', 'entries', limits.maxLogitBias);
    }
  }
}

function fanout(prompts: number, b: Body, limits: RequestLimits): void {
  const n = typeof b.n === 'number' && Number.isSafeInteger(b.n) && b.n > 0 ? b.n : 1;
  const bestOf = typeof b.best_of === 'number' && Number.isSafeInteger(b.best_of) && b.best_of > n ? b.best_of : n;
  if (prompts * bestOf > limits.maxFanout) {
    throw new ApiError(
      400,
      `this request would start ${prompts * bestOf} sequences (${prompts} prompt${prompts === 1 ? '' : 's'} x n=${bestOf}), more than the limit of ${limits.maxFanout} (--max-request-fanout)`,
      prompts > 1 ? 'prompt' : 'n',
    );
  }
}

export function checkCompletionBounds(b: Body, limits: RequestLimits): void {
  checkSampling(b, limits);
  const p = b.prompt;
  let prompts = 1;
  if (typeof p === 'string') checkText(p.length, limits, 'prompt');
  else if (Array.isArray(p) && p.length > 0) {
    const first = p[0];
    if (typeof first === 'number') checkTokenIds(p, 'prompt', limits.maxPromptTokens);
    else {
      prompts = p.length;
      if (prompts > limits.maxFanout) throw tooMany('prompt', 'prompts', limits.maxFanout, '--max-request-fanout');
      let chars = 0;
      for (let i = 0; i < p.length; i++) {
        const item = p[i];
        if (typeof first === 'string') {
          if (typeof item !== 'string') throw new ApiError(400, `prompt.${i}: a list of prompts holds only strings or only token-id lists`, `prompt.${i}`);
          chars += item.length;
        } else if (Array.isArray(first)) {
          if (!Array.isArray(item)) throw new ApiError(400, `prompt.${i}: a list of prompts holds only strings or only token-id lists`, `prompt.${i}`);
          checkTokenIds(item, `prompt.${i}`, limits.maxPromptTokens);
        } else throw new ApiError(400, 'prompt: must be a string, a list of strings, a list of token ids or a list of such lists', 'prompt');
      }
      checkText(chars, limits, 'prompt');
    }
  }
  fanout(prompts, b, limits);
}

function checkMessages(messages: unknown, limits: RequestLimits): void {
  if (!Array.isArray(messages)) return;
  if (messages.length > limits.maxMessages) throw tooMany('messages', 'messages', limits.maxMessages);
  let parts = 0;
  let chars = 0;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new ApiError(400, `messages.${i}: a message must be an object`, `messages.${i}`);
    // One message at a time, stopping at the first bad one: a list of wrong messages costs one
    // issue, not one per message.
    const parsed = chatMessage.safeParse(m);
    if (!parsed.success) {
      const { message, param } = describeIssues(parsed.error);
      throw new ApiError(400, `messages.${i}.${message}`, `messages.${i}${param ? `.${param}` : ''}`);
    }
    const content = (m as Body).content;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      parts += content.length;
      if (parts > limits.maxContentParts) throw tooMany('messages', 'content parts in all', limits.maxContentParts);
      for (const part of content) if (part !== null && typeof part === 'object') chars += textChars((part as Body).text);
    }
  }
  checkText(chars, limits, 'messages');
}

export function checkChatBounds(b: Body, limits: RequestLimits): void {
  checkSampling(b, limits);
  checkMessages(b.messages, limits);
  fanout(1, b, limits);
}

export function checkTokenizeBounds(b: Body, limits: RequestLimits): void {
  if (typeof b.prompt === 'string') checkText(b.prompt.length, limits, 'prompt');
  checkMessages(b.messages, limits);
}

export function checkDetokenizeBounds(b: Body, limits: RequestLimits): void {
  if (Array.isArray(b.tokens)) checkTokenIds(b.tokens, 'tokens', limits.maxPromptTokens);
}

/** The check for each route that takes a JSON body. */
export const ROUTE_BOUNDS: Readonly<Record<string, (b: Body, limits: RequestLimits) => void>> = {
  '/v1/completions': checkCompletionBounds,
  '/v1/chat/completions': checkChatBounds,
  '/tokenize': checkTokenizeBounds,
  '/detokenize': checkDetokenizeBounds,
};
