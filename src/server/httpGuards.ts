// The HTTP-level guards of the server, each installed on the Fastify app before its routes:
// the node server's timeouts and connection cap, the JSON parser with bounds checked before
// JSON.parse, 405 for a wrong method on a known path, and CORS (off unless configured).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { checkJsonBounds, JsonBoundsError, type JsonBounds } from './jsonBounds.js';

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

/** application/json bodies: bounds on the text (array lengths, values, depth), then Fastify's
 *  own parser (prototype-poisoning safe). */
export function installJsonParser(app: FastifyInstance, bounds: JsonBounds): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      checkJsonBounds(body as string, bounds);
    } catch (err) {
      if (err instanceof JsonBoundsError) return done(new ApiError(400, err.message, err.param), undefined);
      return done(err as Error, undefined);
    }
    parse(request, body as string, done);
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
