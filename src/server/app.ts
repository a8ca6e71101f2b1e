// The OpenAI-compatible HTTP server on fastify: routes, auth, errors, metrics.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { VERSION } from '../version.js';
import type { LLM } from '../engine/llm.js';
import { handleChat, toChatTurns } from './chat.js';
import { toolDefinitions, type OpenAITool } from '../engine/llmChat.js';
import { handleCompletion } from './completions.js';
import { ServerContext, type ServerOptions } from './context.js';
import { ApiError, errorBody } from './errors.js';
import { asApiError } from './generation.js';
import { ServerMetrics } from './metrics.js';
import { registerModelRoutes } from './models.js';
import { detokenizeRequestSchema, tokenizeRequestSchema } from './protocol.js';
import { abortOnDisconnect, parseBody } from './routeHelpers.js';
import { DEFAULT_HTTP_LIMITS, installJsonParser, pathOf, registerCors, serverFactory, trackRouteMethods } from './httpGuards.js';
import { RequestLogger } from './requestLog.js';
import { startStatsLogger } from './statsLogger.js';
import { ROUTE_BOUNDS } from './requestBounds.js';
import { CHAT_PAGE_PATHS, registerChatPage } from './chatPage.js';
import { ClientGone } from './responseStream.js';

export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

function sendError(reply: FastifyReply, status: number, message: string, type: string, param: string | null): FastifyReply {
  return reply.code(status).type('application/json').send(errorBody(status, message, type, param));
}

function keyMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The OpenAI-compatible HTTP server (Fastify) over an LLM; call `listen()` on the result. */
export function createServer(llm: LLM, options: ServerOptions = {}): FastifyInstance {
  const ctx = new ServerContext(llm, options);
  const metrics = new ServerMetrics(llm.engine, ctx.servedModelName);
  const http = { ...DEFAULT_HTTP_LIMITS, ...options.http };
  const level = options.logLevel ?? 'warn';
  const chatPage = options.chatPage ?? true;
  // On close, connections still open (streams, keep-alive) are cut: their requests are aborted.
  // Fastify's own per-request lines are off: --enable-log-requests writes ours (requestLog.ts).
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: options.logStream ? { level, stream: options.logStream } : { level } }),
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    serverFactory: serverFactory(http),
    genReqId: () => randomUUID(),
  });
  // Bounds on the body's text before JSON.parse: any array or object at most as long as the
  // longest list a route takes (a prompt of token ids: the context), a few of those in all.
  const maxItems = Math.max(ctx.limits.maxPromptTokens, ctx.limits.maxMessages, ctx.limits.maxFanout, 1024);
  installJsonParser(app, { maxItems, maxValues: 4 * maxItems + 65_536, maxDepth: 64 }, options.bodyLimit ?? DEFAULT_BODY_LIMIT);
  const allowedMethods = trackRouteMethods(app);
  registerCors(app, options.cors ?? null);
  const log = app.log as unknown as Logger; // pino's, which Fastify's log is
  if (options.logRequests) ctx.requestLog = new RequestLogger(log, llm.components.tokenizer);
  if (options.logStatsIntervalSeconds != null) {
    const stop = startStatsLogger(llm.engine, log, options.logStatsIntervalSeconds);
    app.addHook('onClose', async () => stop());
  }

  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request);
    // The chat page's own files carry no data; the page asks for the key and sends it itself.
    if (!ctx.apiKey || path === '/health' || (chatPage && request.method === 'GET' && CHAT_PAGE_PATHS.has(path))) return;
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !keyMatches(m[1].trim(), ctx.apiKey)) {
      return sendError(reply, 401, 'invalid or missing API key (Authorization: Bearer <key>)', 'authentication_error', null);
    }
  });
  // Every list a client sends is bounded (and the long ones type-checked) before the schema runs.
  app.addHook('preValidation', async (request) => {
    const check = ROUTE_BOUNDS[request.routeOptions.url ?? ''];
    const body = request.body;
    if (check && body !== null && typeof body === 'object' && !Array.isArray(body)) check(body as Record<string, unknown>, ctx.limits);
  });

  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ClientGone) return reply.code(499).send(); // to a closed socket: nothing is built
    const e = asApiError(err);
    if (e instanceof ApiError && e.status < 500) return sendError(reply, e.status, e.message, e.type, e.param);
    const fe = err as { statusCode?: number; code?: string; message?: string };
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, 413, `the request body is over the limit of ${options.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes`, 'invalid_request_error', null);
    }
    if (!(e instanceof ApiError) && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendError(reply, fe.statusCode, fe.message ?? 'bad request', 'invalid_request_error', null);
    }
    // A real failure: the detail goes to the log, the client gets the id to quote.
    request.log.error({ err, reqId: request.id, url: pathOf(request) }, 'internal error');
    return sendError(reply, 500, `internal error (request id ${request.id})`, 'server_error', null);
  });
  app.setNotFoundHandler((request, reply) => {
    const allow = allowedMethods(request, reply);
    if (allow) {
      reply.header('allow', allow.join(', '));
      return sendError(reply, 405, `method ${request.method} is not allowed on ${pathOf(request)} (allowed: ${allow.join(', ')})`, 'invalid_request_error', null);
    }
    return sendError(reply, 404, `no route ${request.method} ${pathOf(request).slice(0, 200)}`, 'not_found_error', null);
  });

  // 503 once the engine cannot serve (its runner thread died, or it is shutting down).
  app.get('/health', async (_req, reply) => reply.code(llm.engine.healthy ? 200 : 503).send());
  app.get('/version', async () => ({ version: VERSION }));
  if (chatPage) {
    registerChatPage(app, {
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      imagesPerPrompt: ctx.limitImagesPerPrompt,
      maxImagePixelsPerRequest: ctx.maxImagePixelsPerRequest,
      maxModelLen: llm.engine.maxModelLen,
    });
  }
  registerModelRoutes(app, ctx);
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.text()));
  app.post('/v1/completions', (req, reply) => handleCompletion(ctx, req, reply));
  app.post('/v1/chat/completions', (req, reply) => handleChat(ctx, req, reply));

  app.post('/tokenize', async (req, reply) => {
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
        const turns = await toChatTurns(ctx, chat.messages, abortOnDisconnect(req, reply).signal, req.log);
        try {
          tokens = (await llm.prepareChat(turns, { continueFinalMessage: chat.continue_final_message === true, tools })).promptTokenIds;
        } catch (err) {
          // A chat the template cannot encode is the client's error, as on /v1/chat/completions.
          const e = asApiError(err);
          if (e instanceof ApiError) throw e;
          throw new ApiError(400, `messages: ${err instanceof Error ? err.message : String(err)}`, 'messages');
        }
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
