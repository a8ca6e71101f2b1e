// Running one API request's prompts on the LLM: whole results, or per-choice deltas for
// streaming. A client that goes away aborts the request (the AbortSignal), which frees its
// blocks at once.
import type { EngineInput } from '../engine/engine.js';
import { InvalidRequestError } from '../engine/errors.js';
import type { LLM } from '../engine/llm.js';
import type { PositionLogprobs, RequestOutput } from '../engine/outputs.js';
import type { SamplingParams } from '../engine/samplingParams.js';
import { ApiError } from './errors.js';
import type { RequestLogger } from './requestLog.js';
import { snakeCase } from './samplingMapping.js';

/** What one choice gained since the previous delta. */
export interface ChoiceDelta {
  /** Index of the prompt (completions with several prompts) and of the choice within it. */
  readonly promptIndex: number;
  readonly index: number;
  readonly text: string;
  readonly tokenIds: readonly number[];
  readonly logprobs: readonly PositionLogprobs[] | null;
  /** Character offset of this delta's text in the choice's whole text. */
  readonly textOffset: number;
  readonly finishReason: string | null;
  readonly stopReason: string | number | null;
}

/** Adds a request to the engine, turning engine refusals into 400s; `log` (--enable-log-requests)
 *  logs its start and end. */
export function startRequest(llm: LLM, input: EngineInput, params: SamplingParams, requestId: string, signal: AbortSignal, log: RequestLogger | null = null): AsyncGenerator<RequestOutput> {
  checkContext(llm, input, params);
  try {
    // deltas() and collect() take what they need from each snapshot at once: no copies.
    const stream = llm.streamPrepared(input, params, { requestId, signal, copyOutputs: false });
    return log ? log.wrap(stream, requestId, input, params) : stream;
  } catch (err) {
    throw asApiError(err);
  }
}

export function asApiError(err: unknown): unknown {
  if (err instanceof InvalidRequestError) return new ApiError(400, err.message, err.field ? snakeCase(err.field) : null);
  return err;
}

/** Compiles the request's grammar (structured outputs) before it starts: a schema xgrammar
 *  refuses, or one too slow to compile, is a 400 here, not an error inside a stream. Other
 *  requests keep running while it compiles (in the grammar worker). */
export async function prepareStructured(llm: LLM, params: SamplingParams): Promise<void> {
  try {
    await llm.engine.structured.prepare(params);
  } catch (err) {
    throw asApiError(err);
  }
}

/** vLLM refuses a request whose prompt plus requested tokens exceed the context. */
function checkContext(llm: LLM, input: EngineInput, params: SamplingParams): void {
  const maxLen = llm.engine.maxModelLen;
  const p = input.promptTokenIds.length;
  if (p > maxLen) {
    throw new ApiError(400, `This model's maximum context length is ${maxLen} tokens. However, your prompt is ${p} tokens long.`, 'prompt');
  }
  if (params.maxTokens !== null && p + params.maxTokens > maxLen) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${maxLen} tokens. However, you requested ${p + params.maxTokens} tokens (${p} in the prompt, ${params.maxTokens} in the completion). Please reduce the length of the prompt or completion.`,
      'max_tokens',
    );
  }
}

/** The final output of a request (its stream drained). */
export async function collect(stream: AsyncGenerator<RequestOutput>): Promise<RequestOutput> {
  let last: RequestOutput | null = null;
  try {
    for await (const out of stream) last = out;
  } catch (err) {
    throw asApiError(err);
  }
  if (!last) throw new ApiError(500, 'the request produced no output');
  return last;
}

/** Turns cumulative snapshots into per-choice deltas. */
export async function* deltas(stream: AsyncGenerator<RequestOutput>, promptIndex: number): AsyncGenerator<ChoiceDelta[]> {
  const sentText: number[] = [];
  const sentTokens: number[] = [];
  const sentLogprobs: number[] = [];
  const done: boolean[] = [];
  for await (const out of stream) {
    const batch: ChoiceDelta[] = [];
    for (const o of out.outputs) {
      const i = o.index;
      if (done[i]) continue;
      const t0 = sentText[i] ?? 0;
      const k0 = sentTokens[i] ?? 0;
      const l0 = sentLogprobs[i] ?? 0;
      const finished = o.finishReason !== null;
      if (o.text.length === t0 && !finished && o.tokenIds.length === k0) continue;
      // Logprobs go out with the text they belong to: hold them back while text is held back.
      const lpEnd = o.logprobs ? (finished ? o.logprobs.length : Math.min(o.logprobs.length, o.tokenIds.length)) : 0;
      if (o.text.length === t0 && !finished) continue;
      batch.push({
        promptIndex,
        index: i,
        text: o.text.slice(t0),
        tokenIds: o.tokenIds.slice(k0),
        logprobs: o.logprobs ? o.logprobs.slice(l0, lpEnd) : null,
        textOffset: t0,
        finishReason: o.finishReason,
        stopReason: o.stopReason,
      });
      sentText[i] = o.text.length;
      sentTokens[i] = o.tokenIds.length;
      sentLogprobs[i] = lpEnd;
      if (finished) done[i] = true;
    }
    if (batch.length > 0) yield batch;
  }
}

/** Interleaves several async streams, yielding items as any produces them. */
export async function* merge<T>(streams: AsyncGenerator<T>[]): AsyncGenerator<T> {
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  streams.forEach((s, i) => pending.set(i, s.next().then((r) => ({ i, r }))));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pending.set(i, streams[i].next().then((res) => ({ i, r: res })));
      yield r.value;
    }
  } finally {
    await Promise.all(streams.map((s) => s.return(undefined)));
  }
}
