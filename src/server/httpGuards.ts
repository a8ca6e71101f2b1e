// The HTTP-level guards of the server, each installed on the Fastify app before its routes:
// the node server's timeouts and connection cap, the JSON parser with bounds checked before
// JSON.parse, 405 for a wrong method on a known path, and CORS (off unless configured).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { JsonBoundsError, JsonBoundsScanner, type JsonBounds } from './jsonBounds.js';

export interface HttpLimits {
  /** Most time to receive a whole request, headers and body (Node's requestTimeout), ms. */
  readonly requestTimeoutMs: number;
  /** Most time to receive the headers, ms. */
  readonly headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000, // uvicorn's --timeout-keep-alive, as vLLM serves
  maxConnections: 1024,
};

/** CORS as vLLM's flags set it; null: no CORS headers at all (browsers keep other origins out). */
export interface CorsSettings {
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly allowCredentials: boolean;
}

/** A node http server with the limits applied; the timeouts are checked every second. */
export function serverFactory(limits: HttpLimits) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createHttpServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs || limits.headersTimeoutMs),
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: 1000,
      },
      handler,
    );
    server.maxConnections = limits.maxConnections;
    return server;
  };
}

/** application/json bodies: bounds checked on the bytes as they arrive (after a refusal the
 *  rest is read but neither kept nor scanned), the size capped, then Fastify's own parser
 *  (prototype-poisoning safe). */
export function installJsonParser(app: FastifyInstance, bounds: JsonBounds, bodyLimit: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request, payload, done) => {
    const tooLarge = (): Error => Object.assign(new Error(`the request body is over the limit of ${bodyLimit} bytes`), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > bodyLimit) return done(tooLarge(), undefined);
    const scanner = new JsonBoundsScanner(bounds);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused: Error | null = null;
    let finished = false;
    const finish = (err: Error | null, text?: string): void => {
      if (finished) return;
      finished = true;
      payload.removeListener('data', onData);
      if (err) {
        payload.resume(); // whatever is left is read and dropped
        return done(err, undefined);
      }
      parse(request, text ?? '', done);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > bodyLimit) return finish(tooLarge());
      if (refused) return; // read to the end, kept nowhere: answering mid-upload can lose the answer to a reset
      try {
        scanner.push(chunk);
      } catch (err) {
        refused = err instanceof JsonBoundsError ? new ApiError(400, err.message, err.param) : (err as Error);
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    };
    payload.on('data', onData);
    payload.once('end', () => (refused ? finish(refused) : finish(null, Buffer.concat(chunks, size).toString('utf8'))));
    payload.once('error', (err: Error) => finish(err));
  });
}

/** The request's path without its query string. */
export function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Collects the methods of every route; call before the routes are added. A wrong method on a
 *  known path then gets 405 with an Allow header (from the not-found handler). */
export function trackRouteMethods(app: FastifyInstance): (request: FastifyRequest, reply: FastifyReply) => string[] | null {
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const set = methods.get(route.url) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) set.add(m);
    methods.set(route.url, set);
  });
  return (request) => {
    const set = methods.get(pathOf(request));
    return set ? [...set].sort() : null;
  };
}

export function registerCors(app: FastifyInstance, settings: CorsSettings | null): void {
  if (settings === null || settings.allowedOrigins.length === 0) return;
  const any = settings.allowedOrigins.includes('*');
  void app.register(cors, {
    // '*' with credentials would let any site read answers with the user's cookies: reflect instead.
    origin: any ? (settings.allowCredentials ? true : '*') : [...settings.allowedOrigins],
    methods: settings.allowedMethods.includes('*') ? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] : [...settings.allowedMethods],
    allowedHeaders: settings.allowedHeaders.includes('*') ? undefined : [...settings.allowedHeaders],
    credentials: settings.allowCredentials,
  });
}
