import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway.js';
import type { ModelAlias } from '../../router/model-registry.js';

const CREATED = Math.floor(Date.now() / 1000);

const toModel = (alias: ModelAlias) => ({
  id: alias.name,
  object: 'model' as const,
  created: CREATED,
  owned_by: 'tollgate',
});

/** `GET /v1/models`: the configured aliases, in OpenAI's list shape. */
export function registerModelRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.get('/v1/models', async (req, reply) => {
    reply.header('x-request-id', req.id);
    return { object: 'list', data: gateway.models.list().map(toModel) };
  });
  app.get<{ Params: { model: string } }>('/v1/models/:model', async (req, reply) => {
    const alias = gateway.models.resolve(
      req.params.model,
      gateway.models.list().find((m) => m.name === req.params.model)?.type ?? 'chat',
    );
    reply.header('x-request-id', req.id);
    return toModel(alias);
  });
}
