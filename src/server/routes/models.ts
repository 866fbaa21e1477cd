import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../core/errors.js';
import type { InternalGateway } from '../../gateway.js';
import type { ModelAlias } from '../../router/model-registry.js';
import { principalFor } from '../edge-auth.js';

const CREATED = Math.floor(Date.now() / 1000);

const toModel = (alias: ModelAlias) => ({
  id: alias.name,
  object: 'model' as const,
  created: CREATED,
  owned_by: 'tollgate',
});

/** `GET /v1/models`: the configured aliases, in OpenAI's list shape. */
export function registerModelRoutes(app: FastifyInstance, gateway: InternalGateway): void {
  app.get('/v1/models', async (req, reply) => {
    // A key limited to some aliases sees only those.
    const { allowedModels } = principalFor(req); // authenticated on the headers (edge-auth.ts)
    reply.header('x-request-id', req.id);
    const visible = gateway.models.list().filter((m) => allowedModels === null || allowedModels.includes(m.name));
    return { object: 'list', data: visible.map(toModel) };
  });
  app.get<{ Params: { model: string } }>('/v1/models/:model', async (req, reply) => {
    const { allowedModels } = principalFor(req); // authenticated on the headers (edge-auth.ts)
    if (allowedModels !== null && !allowedModels.includes(req.params.model)) {
      const message = `The model \`${req.params.model}\` does not exist or you do not have access to it.`;
      throw new GatewayError('model_not_found', message, { param: 'model' });
    }
    const alias = gateway.models.resolve(
      req.params.model,
      gateway.models.list().find((m) => m.name === req.params.model)?.type ?? 'chat',
    );
    reply.header('x-request-id', req.id);
    return toModel(alias);
  });
}
