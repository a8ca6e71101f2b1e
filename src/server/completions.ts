// POST /v1/completions: text, texts, token ids or lists of them; stream; logprobs; echo; n.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EngineInput } from '../engine/engine.js';
import type { RequestOutput } from '../engine/outputs.js';
import { collect, deltas, merge, prepareStructured, startRequest, asApiError } from './generation.js';
import { completionLogprobs, concatLogprobs } from './logprobsFormat.js';
import { completionRequestSchema, type CompletionRequest } from './protocol.js';
import { completionParams } from './samplingMapping.js';
import type { ServerContext } from './context.js';
import { collectOrAbort, envelope, newResponseMeta, streamChoices, usage } from './responseStream.js';
import { parseBody, abortOnDisconnect, perPromptSignals } from './routeHelpers.js';

function promptsOf(b: CompletionRequest): (string | number[])[] {
  const p = b.prompt;
  if (typeof p === 'string') return [p];
  if (p.length > 0 && typeof p[0] === 'number') return [p as number[]];
  return p as (string | number[])[];
}

export async function handleCompletion(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = parseBody(completionRequestSchema, request.body);
  ctx.checkModel(body.model);
  const llm = ctx.llm;
  const params = completionParams(body, ctx.samplingLimits);
  const prompts = promptsOf(body);
  const abort = abortOnDisconnect(request, reply);
  const inputs: EngineInput[] = [];
  for (const p of prompts) {
    try {
      inputs.push(typeof p === 'string' ? await llm.prepare(p) : await llm.prepare({ promptTokenIds: p }));
    } catch (err) {
      throw asApiError(err);
    }
  }
  await prepareStructured(llm, params);
  const meta = newResponseMeta('cmpl', ctx.servedModelName, ctx.systemFingerprint);
  const streams: AsyncGenerator<RequestOutput>[] = [];
  const signals = perPromptSignals(abort.signal, inputs.length);
  try {
    inputs.forEach((input, i) => streams.push(startRequest(llm, input, params, inputs.length === 1 ? meta.id : `${meta.id}-${i}`, signals[i], ctx.requestLog)));
  } catch (err) {
    abort.abort();
    throw err;
  }
  const echoText = (i: number): string => (body.echo ? (typeof prompts[i] === 'string' ? (prompts[i] as string) : llm.components.tokenizer.decode(inputs[i].promptTokenIds, { skipSpecialTokens: false })) : '');

  if (!body.stream) {
    const outs = await collectOrAbort(Promise.all(streams.map((s) => collect(s))), abort); // a failure stops the other prompts too
    let completionTokens = 0;
    const choices = outs.flatMap((out, pi) =>
      out.outputs.map((o) => {
        completionTokens += o.tokenIds.length;
        const echo = echoText(pi);
        let logprobs = null;
        if (params.logprobs !== null) {
          const prompt = body.echo && out.promptLogprobs ? completionLogprobs(out.promptLogprobs, 0, ctx.tokenNames, out.promptTokenIds.map((t) => ctx.tokenNames.fallback(t))) : null;
          const gen = completionLogprobs(o.logprobs ?? [], echo.length, ctx.tokenNames);
          logprobs = prompt ? concatLogprobs(prompt, gen) : gen;
        }
        return { index: pi * params.n + o.index, text: echo + o.text, logprobs, finish_reason: o.finishReason, stop_reason: o.stopReason };
      }),
    );
    const promptTokens = outs.reduce((n, o) => n + o.promptTokenIds.length, 0);
    return reply.send(envelope(meta, 'text_completion', choices, { usage: usage(promptTokens, completionTokens) }));
  }

  // The echo chunks, made lazily: their detokenisation fails inside the stream, as an error event.
  function* echoChoices(): Generator<object> {
    if (!body.echo) return;
    for (let pi = 0; pi < inputs.length; pi++) {
      for (let c = 0; c < params.n; c++) yield { index: pi * params.n + c, text: echoText(pi), logprobs: null, finish_reason: null };
    }
  }
  return streamChoices(reply, abort, meta, {
    chunkObject: 'text_completion',
    includeUsage: body.stream_options?.include_usage === true,
    promptTokens: inputs.reduce((n, i) => n + i.promptTokenIds.length, 0),
    opening: echoChoices(),
    deltas: merge(streams.map((s, i) => deltas(s, i))),
    choice: (d) => ({
      index: d.promptIndex * params.n + d.index,
      text: d.text,
      logprobs: d.logprobs ? completionLogprobs(d.logprobs, d.textOffset, ctx.tokenNames) : null,
      finish_reason: d.finishReason,
      stop_reason: d.stopReason,
    }),
  });
}
