// POST /v1/chat/completions: messages with text and image_url parts (http(s) or data: URLs),
// the model's instruct encoding, stream with stream_options.include_usage, n, logprobs.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatContentPart, ChatTurn } from '../engine/chatPort.js';
import { ApiError } from './errors.js';
import { asApiError, collect, deltas, startRequest } from './generation.js';
import { chatLogprobs } from './logprobsFormat.js';
import { chatRequestSchema, type ChatMessageInput } from './protocol.js';
import { chatParams } from './samplingMapping.js';
import type { ServerContext } from './context.js';
import { collectOrAbort, envelope, newResponseMeta, streamChoices, usage } from './responseStream.js';
import { abortOnDisconnect, parseBody } from './routeHelpers.js';

/** Loads the images of the messages (in parallel) and builds the chat turns. */
export async function toChatTurns(ctx: ServerContext, messages: readonly ChatMessageInput[]): Promise<ChatTurn[]> {
  const images = ctx.llm.components.images;
  const sources: { at: string; url: string }[] = [];
  for (const [i, m] of messages.entries()) {
    if (!Array.isArray(m.content)) continue;
    for (const [j, part] of m.content.entries()) {
      if (part.type !== 'image_url') continue;
      const at = `messages.${i}.content.${j}.image_url`;
      if (m.role !== 'user') throw new ApiError(400, `${at}: only user messages may hold images`, at);
      if (!images) throw new ApiError(400, `${at}: this model takes no images`, at);
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url.url;
      if (!/^(https?:|data:)/i.test(url)) throw new ApiError(400, `${at}: the url must be http(s):// or data:`, at);
      sources.push({ at, url });
    }
  }
  if (sources.length > ctx.limitImagesPerPrompt) {
    throw new ApiError(400, `at most ${ctx.limitImagesPerPrompt} images per prompt (--limit-mm-per-prompt), got ${sources.length}`, 'messages');
  }
  const where = sources.map((s) => s.at);
  const loads = sources.map((s) => images!.encode(s.url));
  const settled = await Promise.allSettled(loads);
  const loaded = settled.map((r, k) => {
    if (r.status === 'rejected') {
      const reason = r.reason instanceof Error ? r.reason.message : String(r.reason);
      throw new ApiError(400, `${where[k]}: the image could not be loaded: ${reason}`, where[k]);
    }
    return r.value;
  });
  let next = 0;
  return messages.map((m) => {
    const role = m.role === 'developer' ? 'system' : m.role;
    const content = m.content ?? '';
    if (typeof content === 'string') return { role, content };
    const parts: ChatContentPart[] = content.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image', image: loaded[next++] }));
    return { role, content: parts };
  });
}

export async function handleChat(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = parseBody(chatRequestSchema, request.body);
  ctx.checkModel(body.model);
  const llm = ctx.llm;
  const params = chatParams(body, llm.components.runner.limits.vocabSize);
  const turns = await toChatTurns(ctx, body.messages);
  let input;
  try {
    input = await llm.prepareChat(turns, body.continue_final_message === true);
  } catch (err) {
    const e = asApiError(err);
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, `messages: ${err instanceof Error ? err.message : String(err)}`, 'messages');
  }
  const meta = newResponseMeta('chatcmpl', ctx.servedModelName);
  const abort = abortOnDisconnect(request, reply);
  const stream = startRequest(llm, input, params, meta.id, abort.signal);
  const topK = body.top_logprobs ?? 0;
  const promptTokens = input.promptTokenIds.length;

  if (!body.stream) {
    const out = await collectOrAbort(collect(stream), abort);
    const completionTokens = out.outputs.reduce((n, o) => n + o.tokenIds.length, 0);
    const choices = out.outputs.map((o) => ({
      index: o.index,
      message: { role: 'assistant', content: o.text },
      logprobs: o.logprobs ? chatLogprobs(o.logprobs, topK) : null,
      finish_reason: o.finishReason,
      stop_reason: o.stopReason,
    }));
    return reply.send(envelope(meta, 'chat.completion', choices, { usage: usage(promptTokens, completionTokens) }));
  }

  return streamChoices(reply, abort, meta, {
    chunkObject: 'chat.completion.chunk',
    includeUsage: body.stream_options?.include_usage === true,
    promptTokens,
    opening: Array.from({ length: params.n }, (_, i) => ({ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })),
    deltas: deltas(stream, 0),
    choice: (d) => ({
      index: d.index,
      delta: d.text.length > 0 || d.finishReason === null ? { content: d.text } : {},
      logprobs: d.logprobs ? chatLogprobs(d.logprobs, topK) : null,
      finish_reason: d.finishReason,
      stop_reason: d.stopReason,
    }),
  });
}
