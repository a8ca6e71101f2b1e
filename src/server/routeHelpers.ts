import { setMaxListeners } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError } from './errors.js';
import { describeIssues, unsupportedFields } from './protocol.js';

/** Validates a JSON body against its schema; unsupported OpenAI fields get a 400 naming them. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'the request body must be a JSON object');
  const unsupported = unsupportedFields(body as Record<string, unknown>);
  if (unsupported.length > 0) {
    throw new ApiError(400, `unsupported parameter${unsupported.length > 1 ? 's' : ''}: ${unsupported.join(', ')}`, unsupported[0]);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeIssues(parsed.error);
    throw new ApiError(400, message, param);
  }
  return parsed.data;
}

/** An AbortController fired when the client goes away before the response is complete. */
export function abortOnDisconnect(request: FastifyRequest, reply: FastifyReply): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per prompt and image: bounded by the request limits
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.once('close', onClose);
  request.raw.once('aborted', () => controller.abort());
  return controller;
}

/** One signal per prompt of a request, fired one per event-loop turn once `parent` fires: ending
 *  thousands of sequences (prompts x n) never holds the loop for all of them at once. */
export function perPromptSignals(parent: AbortSignal, count: number): AbortSignal[] {
  const controllers = Array.from({ length: count }, () => new AbortController());
  const fire = (i: number): void => {
    if (i >= count) return;
    controllers[i].abort(parent.reason);
    setImmediate(() => fire(i + 1));
  };
  if (parent.aborted) for (const c of controllers) c.abort(parent.reason);
  else parent.addEventListener('abort', () => fire(0), { once: true });
  return controllers.map((c) => c.signal);
}
