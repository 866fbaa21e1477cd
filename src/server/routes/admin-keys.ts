import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import type { InternalGateway } from '../../gateway.js';
import { attachBudgets, budgetJson, budgetsOf, parseBudgets } from '../../tenancy/budgets.js';
import { DEFAULT_GRACE_MS, MAX_GRACE_MS } from '../../tenancy/key-store.js';
import { keyJson, parseBody, timeSchema, toAdminError } from './admin-json.js';
import { queryFlag, singleValued } from './query-params.js';

const limit = z.number().int().positive().nullable().optional();

const createKeyBody = z
  .object({
    tenant: z.string(),
    name: z.string().optional(),
    /** Aliases the key may call; leave out for all. */
    models: z.array(z.string()).nullable().optional(),
    rpm_limit: limit,
    tpm_limit: limit,
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
    expires_at: timeSchema.nullable().optional(),
    /** Hard budgets in CLI notation: `50/month`, `5/day`. */
    budget: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .strict();

const rotateBody = z
  .object({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_MS / 1000)
      .optional(),
  })
  .strict();
const revokeBody = z.object({ reason: z.string().max(500).optional() }).strict();
const expireBody = z.object({ at: timeSchema.optional() }).strict();

type Id = { Params: { id: string } };

/**
 * Virtual keys under the admin guard: create (the secret is in the reply, once), list, show,
 * revoke, rotate (new secret, old one valid for `grace_seconds`) and expire.
 */
export function registerAdminKeyRoutes(app: FastifyInstance, gateway: InternalGateway): void {
  const { store } = gateway.tenancy;
  const now = (): number => gateway.clock.wallNow();
  const admin =
    <T>(fn: () => Promise<T>) =>
    async (): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        throw toAdminError(err);
      }
    };

  app.post('/keys', async (req, reply) =>
    admin(async () => {
      const body = parseBody(createKeyBody, req.body);
      const models = body.models ?? null;
      const unknown = models?.filter((m) => !gateway.models.list().some((alias) => alias.name === m)) ?? [];
      if (unknown.length > 0)
        throw new GatewayError('invalid_request', `Unknown model alias(es): ${unknown.join(', ')}.`, {
          param: 'models',
        });
      const budgets = parseBudgets(body.budget === undefined ? [] : [body.budget].flat());
      const { key, secret } = await store.createKey({
        tenant: body.tenant,
        ...(body.name !== undefined ? { name: body.name } : {}),
        allowedModels: models,
        rpmLimit: body.rpm_limit ?? null,
        tpmLimit: body.tpm_limit ?? null,
        metadata: body.metadata ?? null,
        expiresAt: body.expires_at ?? null,
      });
      const created = await attachBudgets(gateway.costs.repository, { kind: 'key', keyId: key.id }, budgets);
      return reply.code(201).send({ ...keyJson(key, now()), key: secret, budgets: created.map(budgetJson) });
    })(),
  );

  app.get('/keys', async (req) => {
    const params = singleValued(req.query);
    const keys = await store.listKeys({
      ...(params.tenant ? { tenant: params.tenant } : {}),
      includeInactive: queryFlag(params, 'include_inactive'),
    });
    return { object: 'list', data: keys.map((k) => keyJson(k, now())) };
  });

  app.get<Id>('/keys/:id', async (req) => {
    const key = await store.getKey(req.params.id);
    if (!key) throw new GatewayError('not_found', `No key with id ${req.params.id}.`);
    const budgets = await budgetsOf(gateway.costs.repository, { keyId: key.id });
    return { ...keyJson(key, now()), budgets: budgets.map(budgetJson) };
  });

  app.post<Id>('/keys/:id/revoke', async (req) =>
    admin(async () => {
      const body = parseBody(revokeBody, req.body);
      return keyJson(await store.revokeKey(req.params.id, body.reason ?? null), now());
    })(),
  );

  app.post<Id>('/keys/:id/rotate', async (req) =>
    admin(async () => {
      const body = parseBody(rotateBody, req.body);
      const graceMs = body.grace_seconds === undefined ? DEFAULT_GRACE_MS : body.grace_seconds * 1000;
      const { key, secret } = await store.rotateKey(req.params.id, { graceMs });
      return { ...keyJson(key, now()), key: secret };
    })(),
  );

  app.post<Id>('/keys/:id/expire', async (req) =>
    admin(async () => {
      const body = parseBody(expireBody, req.body);
      return keyJson(await store.expireKey(req.params.id, body.at), now());
    })(),
  );
}
