// What /v1/chat/completions and /v1/completions share around their choices: the response
// envelope { id, object, created, model, choices, ... }, usage, collecting with abort, and the
// streaming tail (usage chunk, [DONE], the error event, abort and end).
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { ApiError } from './errors.js';
import { asApiError, type ChoiceDelta } from './generation.js';
import { SseWriter } from './sse.js';

/** One response's id (`<prefix>-<32 hex>`), creation time (Unix seconds), served model name and
 *  the server's system fingerprint (ServerContext.systemFingerprint). */
export interface ResponseMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly systemFingerprint: string;
}

export function newResponseMeta(idPrefix: string, model: string, systemFingerprint: string): ResponseMeta {
  return { id: `${idPrefix}-${randomUUID().replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model, systemFingerprint };
}

/** Every response body and stream chunk: { id, object, created, model, system_fingerprint, choices, ...extra }. */
export function envelope(meta: ResponseMeta, object: string, choices: object[], extra: object = {}): object {
  return { id: meta.id, object, created: meta.created, model: meta.model, system_fingerprint: meta.systemFingerprint, choices, ...extra };
}

export function usage(promptTokens: number, completionTokens: number): object {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** Thrown when the client went away: there is no one to build an answer for. */
export class ClientGone extends Error {}

/** Awaits whole results; a failure aborts the request (all its prompts) before it propagates.
 *  Once the client is gone it throws ClientGone instead (the route sends nothing). */
export async function collectOrAbort<T>(results: Promise<T>, abort: AbortController): Promise<T> {
  let out: T;
  try {
    out = await results;
  } catch (err) {
    if (abort.signal.aborted) throw new ClientGone('the client went away');
    abort.abort();
    throw err;
  }
  if (abort.signal.aborted) throw new ClientGone('the client went away');
  return out;
}

export interface ChoiceStream {
  /** `object` of every chunk. */
  readonly chunkObject: string;
  readonly includeUsage: boolean;
  readonly promptTokens: number;
  /** Choices sent before any generated text, one chunk each (chat: the role; completions: the
   *  echo); iterated inside the stream's error handling, so a lazy iterable may throw. */
  readonly opening: Iterable<object>;
  readonly deltas: AsyncIterable<ChoiceDelta[]>;
  /** The choice of one delta, sent as a chunk of its own. */
  readonly choice: (d: ChoiceDelta) => object;
}

/** Answers with server-sent events: the opening choices, one chunk per delta, the usage chunk
 *  when asked, then [DONE]. A failure on the way becomes one error event. Either way the
 *  request is aborted (its blocks freed) and the response ended. */
export async function streamChoices(reply: FastifyReply, abort: AbortController, meta: ResponseMeta, s: ChoiceStream): Promise<FastifyReply> {
  const sse = new SseWriter(reply.raw);
  reply.hijack();
  const chunk = (choices: object[], extra: object = {}) => envelope(meta, s.chunkObject, choices, extra);
  let completionTokens = 0;
  try {
    for (const choice of s.opening) await sse.send(chunk([choice]));
    for await (const batch of s.deltas) {
      for (const d of batch) {
        completionTokens += d.tokenIds.length;
        await sse.send(chunk([s.choice(d)]));
      }
    }
    if (s.includeUsage) await sse.send(chunk([], { usage: usage(s.promptTokens, completionTokens) }));
    await sse.send('[DONE]');
  } catch (err) {
    const e = asApiError(err);
    if (e instanceof ApiError && e.status < 500) await sse.send({ error: { message: e.message, type: e.type, param: e.param, code: e.status } });
    else {
      // The detail to the log; the client gets the id to quote.
      reply.request.log.error({ err, reqId: reply.request.id }, 'internal error while streaming');
      await sse.send({ error: { message: `internal error (request id ${reply.request.id})`, type: 'server_error', param: null, code: 500 } });
    }
  } finally {
    abort.abort();
    sse.end();
  }
  return reply;
}
