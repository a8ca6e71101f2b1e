// The OpenAI-compatible HTTP server on fastify: routes, auth, errors, metrics.
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { VERSION } from '../version.js';
import type { LLM } from '../engine/llm.js';
import { handleChat, toChatTurns } from './chat.js';
import { toolDefinitions, type OpenAITool } from '../engine/llmChat.js';
import { handleCompletion } from './completions.js';
import { ServerContext, type ServerOptions } from './context.js';
import { ApiError, errorBody } from './errors.js';
import { asApiError } from './generation.js';
import { ServerMetrics } from './metrics.js';
import { detokenizeRequestSchema, tokenizeRequestSchema } from './protocol.js';
import { parseBody } from './routeHelpers.js';

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

function sendError(reply: FastifyReply, status: number, message: string, type: string, param: string | null): FastifyReply {
  return reply.code(status).type('application/json').send(errorBody(status, message, type, param));
}

function keyMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createServer(llm: LLM, options: ServerOptions = {}): FastifyInstance {
  const ctx = new ServerContext(llm, options);
  const metrics = new ServerMetrics(llm.engine, ctx.servedModelName);
  // On close, connections still open (streams, keep-alive) are cut: their requests are aborted.
  const app = Fastify({ bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT, logger: false, forceCloseConnections: true });

  app.addHook('onRequest', async (request, reply) => {
    if (!ctx.apiKey || request.url === '/health') return;
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !keyMatches(m[1].trim(), ctx.apiKey)) {
      return sendError(reply, 401, 'invalid or missing API key (Authorization: Bearer <key>)', 'authentication_error', null);
    }
  });

  app.setErrorHandler((err: unknown, _request: FastifyRequest, reply: FastifyReply) => {
    const e = asApiError(err);
    if (e instanceof ApiError) return sendError(reply, e.status, e.message, e.type, e.param);
    const fe = err as { statusCode?: number; code?: string; message?: string };
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, 413, `the request body is over the limit of ${options.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes`, 'invalid_request_error', null);
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendError(reply, fe.statusCode, fe.message ?? 'bad request', 'invalid_request_error', null);
    }
    return sendError(reply, 500, `internal error: ${fe.message ?? String(err)}`, 'server_error', null);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, `no route ${request.method} ${request.url}`, 'not_found_error', null));

  app.get('/health', async (_req, reply) => reply.code(200).send());
  app.get('/version', async () => ({ version: VERSION }));
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [
      {
        id: ctx.servedModelName,
        object: 'model',
        created: Math.floor(Date.now() / 1000),
        owned_by: 'tramontane',
        root: llm.modelName,
        parent: null,
        max_model_len: llm.engine.maxModelLen,
      },
    ],
  }));
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.text()));
  app.post('/v1/completions', (req, reply) => handleCompletion(ctx, req, reply));
  app.post('/v1/chat/completions', (req, reply) => handleChat(ctx, req, reply));

  app.post('/tokenize', async (req) => {
    const body = parseBody(tokenizeRequestSchema, req.body);
    ctx.checkModel(body.model);
    let tokens: readonly number[];
    try {
      if (typeof body.prompt === 'string') {
        tokens = llm.components.tokenizer.encode(body.prompt, { bos: body.add_special_tokens !== false, eos: false });
      } else {
        // vLLM's chat /tokenize: the prompt as the chat template writes it (tools included).
        const chat = body as { messages: Parameters<typeof toChatTurns>[1]; continue_final_message?: boolean | null; tools?: unknown };
        const tools = toolDefinitions(chat.tools as OpenAITool[] | null | undefined);
        const turns = await toChatTurns(ctx, chat.messages);
        tokens = (await llm.prepareChat(turns, { continueFinalMessage: chat.continue_final_message === true, tools })).promptTokenIds;
      }
    } catch (err) {
      throw asApiError(err);
    }
    return { count: tokens.length, max_model_len: llm.engine.maxModelLen, tokens };
  });
  app.post('/detokenize', async (req) => {
    const body = parseBody(detokenizeRequestSchema, req.body);
    ctx.checkModel(body.model);
    const vocab = llm.components.runner.limits.vocabSize;
    const bad = body.tokens.find((t) => t >= vocab);
    if (bad !== undefined) throw new ApiError(400, `token id ${bad} is outside the vocabulary of ${vocab}`, 'tokens');
    return { prompt: llm.components.tokenizer.decode(body.tokens, { skipSpecialTokens: false }) };
  });
  return app;
}
