// POST /v1/chat/completions: messages with text and image_url parts (http(s) or data: URLs),
// the model's instruct encoding, stream with stream_options.include_usage, n, logprobs.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { ImageError, ImageFetchError } from '../image/index.js';
import type { ChatContentPart, ChatTurn } from '../engine/chatPort.js';
import { toChatToolCalls, toolDefinitions, type OpenAITool, type OpenAIToolCall } from '../engine/llmChat.js';
import type { SamplingParamsInput } from '../engine/samplingParams.js';
import { extractToolCalls, planTools, type ToolChoice, type ToolPlan } from '../engine/toolChoice.js';
import { truncateToolCallId } from '../tokenizer/chatMessages.js';
import { ApiError } from './errors.js';
import { asApiError, collect, deltas, prepareStructured, startRequest } from './generation.js';
import { chatLogprobs } from './logprobsFormat.js';
import { chatRequestSchema, type ChatMessageInput } from './protocol.js';
import { chatParams, toSamplingParams, type SamplingLimits } from './samplingMapping.js';
import { ChoiceToolStream } from './toolStream.js';
import type { ServerContext } from './context.js';
import { collectOrAbort, envelope, newResponseMeta, streamChoices, usage } from './responseStream.js';
import { abortOnDisconnect, parseBody } from './routeHelpers.js';

/** Loads the images of the messages (in parallel, under the server's media policy and budgets)
 *  and builds the chat turns. `signal` cancels the loads; `log` gets why a fetch failed. */
export async function toChatTurns(ctx: ServerContext, messages: readonly ChatMessageInput[], signal?: AbortSignal, log?: FastifyBaseLogger): Promise<ChatTurn[]> {
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
      sources.push({ at, url });
    }
  }
  if (sources.length > ctx.limitImagesPerPrompt) {
    throw new ApiError(400, `at most ${ctx.limitImagesPerPrompt} images per prompt (--limit-mm-per-prompt), got ${sources.length}`, 'messages');
  }
  const where = sources.map((s) => s.at);
  const options = ctx.imageOptions(signal);
  const loads = sources.map((s) => images!.encode(s.url, options));
  const settled = await Promise.allSettled(loads);
  const loaded = settled.map((r, k) => {
    if (r.status === 'rejected') {
      if (r.reason instanceof ImageFetchError) log?.warn({ url: r.reason.source, detail: r.reason.detail }, 'image fetch refused or failed');
      if (!(r.reason instanceof ImageError)) log?.error({ err: r.reason }, 'image load failed');
      const reason = r.reason instanceof ImageError ? r.reason.message : 'internal error';
      throw new ApiError(400, `${where[k]}: the image could not be loaded: ${reason}`, where[k]);
    }
    return r.value;
  });
  let next = 0;
  return messages.map((m, i) => {
    const role = m.role === 'developer' ? 'system' : m.role;
    const content = m.content ?? null;
    const parts: string | ChatContentPart[] | null =
      content === null || typeof content === 'string' ? content : content.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image', image: loaded[next++] }));
    return { role, content: parts, ...toolFields(m, i) };
  });
}

/** The tool fields of a message, honoured (never dropped): tool_calls and prefix of an assistant
 *  message, tool_call_id and name of a tool message; ids cut to their last 9 as vLLM does. */
function toolFields(m: ChatMessageInput, i: number): Partial<ChatTurn> {
  const at = `messages.${i}`;
  if (m.role === 'assistant') {
    return {
      ...(m.tool_calls ? { toolCalls: toChatToolCalls(m.tool_calls as OpenAIToolCall[], at) } : {}),
      ...(m.prefix != null ? { prefix: m.prefix } : {}),
    };
  }
  if (m.tool_calls != null) throw new ApiError(400, `${at}.tool_calls: only assistant messages make tool calls`, `${at}.tool_calls`);
  if (m.prefix != null) throw new ApiError(400, `${at}.prefix: only an assistant message may be a prefix`, `${at}.prefix`);
  if (m.role === 'tool') return { toolCallId: m.tool_call_id == null ? null : truncateToolCallId(m.tool_call_id), name: m.name ?? null };
  if (m.tool_call_id != null) throw new ApiError(400, `${at}.tool_call_id: only tool messages answer a tool call`, `${at}.tool_call_id`);
  return {};
}

/** Tools and tool_choice of a request (vLLM's rules), errors as 400s naming the field. */
export function chatTools(ctx: ServerContext, body: { tools?: unknown; tool_choice?: unknown; parallel_tool_calls?: boolean | null }) {
  try {
    const tools = toolDefinitions(body.tools as OpenAITool[] | null | undefined);
    const plan = planTools(tools, body.tool_choice as ToolChoice | null | undefined, {
      parallelToolCalls: body.parallel_tool_calls,
      enableAutoToolChoice: ctx.enableAutoToolChoice,
      field: 'tool_choice',
    });
    return { tools, plan };
  } catch (err) {
    throw asApiError(err);
  }
}

export async function handleChat(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = parseBody(chatRequestSchema, request.body);
  ctx.checkModel(body.model);
  const llm = ctx.llm;
  const { tools, plan } = chatTools(ctx, body);
  const params = withToolConstraint(chatParams(body, ctx.samplingLimits), plan, ctx.samplingLimits);
  // From here a client that goes away cancels its image loads, then the request itself.
  const abort = abortOnDisconnect(request, reply);
  const turns = await toChatTurns(ctx, body.messages, abort.signal, request.log);
  let input;
  try {
    input = await llm.prepareChat(turns, { continueFinalMessage: body.continue_final_message === true, tools, appendToolCallsToken: plan.mode === 'forced' });
  } catch (err) {
    const e = asApiError(err);
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, `messages: ${err instanceof Error ? err.message : String(err)}`, 'messages');
  }
  await prepareStructured(llm, params);
  const meta = newResponseMeta('chatcmpl', ctx.servedModelName, ctx.systemFingerprint);
  const stream = startRequest(llm, input, params, meta.id, abort.signal, ctx.requestLog);
  const topK = body.top_logprobs ?? 0;
  const promptTokens = input.promptTokenIds.length;
  const toolCallsId = llm.components.toolCallsTokenId ?? null;

  if (!body.stream) {
    const out = await collectOrAbort(collect(stream), abort);
    const completionTokens = out.outputs.reduce((n, o) => n + o.tokenIds.length, 0);
    const choices = out.outputs.map((o) => {
      const x = extractToolCalls(o, plan, llm.components.tokenizer, toolCallsId, params.skipSpecialTokens);
      const message = x.toolCalls.length > 0 ? { role: 'assistant', content: x.content, tool_calls: x.toolCalls } : { role: 'assistant', content: o.text };
      return {
        index: o.index,
        message,
        logprobs: o.logprobs ? chatLogprobs(o.logprobs, topK, ctx.tokenNames) : null,
        finish_reason: x.finishReason,
        stop_reason: o.stopReason,
      };
    });
    return reply.send(envelope(meta, 'chat.completion', choices, { usage: usage(promptTokens, completionTokens) }));
  }

  if (plan.mode !== 'none') {
    const streams: ChoiceToolStream[] = [];
    return streamChoices(reply, abort, meta, {
      chunkObject: 'chat.completion.chunk',
      includeUsage: body.stream_options?.include_usage === true,
      promptTokens,
      opening: Array.from({ length: params.n }, (_, i) => ({ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })),
      deltas: deltas(stream, 0),
      choice: (d) => {
        const s = (streams[d.index] ??= new ChoiceToolStream(plan, llm.components.tokenizer, toolCallsId, params.skipSpecialTokens));
        const t = s.next(d);
        return { index: d.index, delta: t.delta, logprobs: d.logprobs ? chatLogprobs(d.logprobs, topK, ctx.tokenNames) : null, finish_reason: t.finishReason, stop_reason: d.stopReason };
      },
    });
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
      logprobs: d.logprobs ? chatLogprobs(d.logprobs, topK, ctx.tokenNames) : null,
      finish_reason: d.finishReason,
      stop_reason: d.stopReason,
    }),
  });
}

/** A forced tool choice (required / named) constrains the output to the calls' JSON schema. */
function withToolConstraint(params: ReturnType<typeof chatParams>, plan: ToolPlan, limits: SamplingLimits): ReturnType<typeof chatParams> {
  if (!plan.schema) return params;
  if (params.structuredOutputs) {
    throw new ApiError(400, 'tool_choice "required" or a named function cannot be combined with response_format or structured_outputs', 'tool_choice');
  }
  try {
    return toSamplingParams({ ...(params as SamplingParamsInput), structuredOutputs: { json: plan.schema } }, limits);
  } catch (err) {
    // The schema is built from the tools' parameters: a refusal is about them.
    if (err instanceof ApiError && err.status === 400) throw new ApiError(400, `tools: a tool's parameters cannot constrain decoding (tool_choice required or named): ${err.message}`, 'tools');
    throw err;
  }
}
