// POST /v1/completions: text, texts, token ids or lists of them; stream; logprobs; echo; n.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EngineInput } from '../engine/engine.js';
import type { RequestOutput } from '../engine/outputs.js';
import { ApiError } from './errors.js';
import { collect, deltas, merge, startRequest, asApiError } from './generation.js';
import { completionLogprobs } from './logprobsFormat.js';
import { completionRequestSchema, type CompletionRequest } from './protocol.js';
import { completionParams } from './samplingMapping.js';
import type { ServerContext } from './context.js';
import { SseWriter } from './sse.js';
import { parseBody, abortOnDisconnect } from './routeHelpers.js';

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
  const params = completionParams(body, llm.components.runner.limits.vocabSize);
  const prompts = promptsOf(body);
  const inputs: EngineInput[] = [];
  for (const p of prompts) {
    try {
      inputs.push(typeof p === 'string' ? await llm.prepare(p) : await llm.prepare({ promptTokenIds: p }));
    } catch (err) {
      throw asApiError(err);
    }
  }
  const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.servedModelName;
  const abort = abortOnDisconnect(request, reply);
  const streams: AsyncGenerator<RequestOutput>[] = [];
  try {
    inputs.forEach((input, i) => streams.push(startRequest(llm, input, params, inputs.length === 1 ? id : `${id}-${i}`, abort.signal)));
  } catch (err) {
    abort.abort();
    throw err;
  }
  const echoText = (i: number): string => (body.echo ? (typeof prompts[i] === 'string' ? (prompts[i] as string) : llm.components.tokenizer.decode(inputs[i].promptTokenIds, { skipSpecialTokens: false })) : '');

  if (!body.stream) {
    let outs;
    try {
      outs = await Promise.all(streams.map((s) => collect(s)));
    } catch (err) {
      abort.abort(); // the other prompts of the request stop too
      throw err;
    }
    let completionTokens = 0;
    const choices = outs.flatMap((out, pi) =>
      out.outputs.map((o) => {
        completionTokens += o.tokenIds.length;
        const echo = echoText(pi);
        let logprobs = null;
        if (params.logprobs !== null) {
          const prompt = body.echo && out.promptLogprobs ? completionLogprobs(out.promptLogprobs, 0, out.promptTokenIds.map((t) => llm.components.tokenizer.tokenText(t))) : null;
          const gen = completionLogprobs(o.logprobs ?? [], echo.length);
          logprobs = prompt
            ? { tokens: [...prompt.tokens, ...gen.tokens], token_logprobs: [...prompt.token_logprobs, ...gen.token_logprobs], top_logprobs: [...prompt.top_logprobs, ...gen.top_logprobs], text_offset: [...prompt.text_offset, ...gen.text_offset] }
            : gen;
        }
        return { index: pi * params.n + o.index, text: echo + o.text, logprobs, finish_reason: o.finishReason, stop_reason: o.stopReason };
      }),
    );
    const promptTokens = outs.reduce((n, o) => n + o.promptTokenIds.length, 0);
    return reply.send({
      id,
      object: 'text_completion',
      created,
      model,
      choices,
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  }

  const sse = new SseWriter(reply.raw);
  reply.hijack();
  const includeUsage = body.stream_options?.include_usage === true;
  let completionTokens = 0;
  const promptTokens = inputs.reduce((n, i) => n + i.promptTokenIds.length, 0);
  try {
    if (body.echo) {
      for (let pi = 0; pi < inputs.length; pi++) {
        for (let c = 0; c < params.n; c++) {
          await sse.send({ id, object: 'text_completion', created, model, choices: [{ index: pi * params.n + c, text: echoText(pi), logprobs: null, finish_reason: null }] });
        }
      }
    }
    for await (const batch of merge(streams.map((s, i) => deltas(s, i)))) {
      for (const d of batch) {
        completionTokens += d.tokenIds.length;
        const logprobs = d.logprobs ? completionLogprobs(d.logprobs, d.textOffset) : null;
        await sse.send({
          id,
          object: 'text_completion',
          created,
          model,
          choices: [{ index: d.promptIndex * params.n + d.index, text: d.text, logprobs, finish_reason: d.finishReason, stop_reason: d.stopReason }],
        });
      }
    }
    if (includeUsage) {
      await sse.send({ id, object: 'text_completion', created, model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } });
    }
    await sse.send('[DONE]');
  } catch (err) {
    const e = asApiError(err);
    await sse.send({ error: { message: e instanceof Error ? e.message : String(e), type: e instanceof ApiError ? e.type : 'server_error', param: null, code: e instanceof ApiError ? e.status : 500 } });
  } finally {
    abort.abort();
    sse.end();
  }
  return reply;
}
