// GET /v1/models and GET /v1/models/{id}: the one served model, as OpenAI's model object with
// vLLM's extras (root, parent, max_model_len). An id may hold slashes ('mistralai/...'), so the
// route takes the rest of the path.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './context.js';
import { ApiError } from './errors.js';

/** Longest model id a 404 quotes back (the path itself is bounded by the HTTP limits). */
const QUOTED_ID_CHARS = 200;

export function registerModelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const created = Math.floor(Date.now() / 1000);
  const card = () => ({
    id: ctx.servedModelName,
    object: 'model',
    created,
    owned_by: 'tramontane',
    root: ctx.llm.modelName,
    parent: null,
    max_model_len: ctx.llm.engine.maxModelLen,
  });
  app.get('/v1/models', async () => ({ object: 'list', data: [card()] }));
  app.get('/v1/models/*', async (request) => {
    const id = (request.params as { '*': string })['*'];
    if (id !== ctx.servedModelName) {
      const quoted = id.length > QUOTED_ID_CHARS ? `${id.slice(0, QUOTED_ID_CHARS)}...` : id;
      throw new ApiError(404, `The model \`${quoted}\` does not exist (this server serves \`${ctx.servedModelName}\`).`, 'model');
    }
    return card();
  });
}
