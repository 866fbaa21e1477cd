import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import type { InternalGateway } from '../../gateway.js';
import { attachBudgets, budgetJson, budgetsOf, parseBudgets } from '../../tenancy/budgets.js';
import { parseBody, tenantJson, toAdminError } from './admin-json.js';

const createTenantBody = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
    /** Hard budgets in CLI notation: `500/month`, `20/day`. */
    budget: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .strict();

/** `POST /admin/v1/tenants`, `GET /admin/v1/tenants`, `GET /admin/v1/tenants/:id` (under the admin guard). */
export function registerAdminTenantRoutes(app: FastifyInstance, gateway: InternalGateway): void {
  const { store } = gateway.tenancy;

  app.post('/tenants', async (req, reply) => {
    try {
      const body = parseBody(createTenantBody, req.body);
      const budgets = parseBudgets(body.budget === undefined ? [] : [body.budget].flat());
      const tenant = await store.createTenant({
        id: body.id,
        ...(body.name !== undefined ? { name: body.name } : {}),
        metadata: body.metadata ?? null,
      });
      const created = await attachBudgets(gateway.costs.repository, { kind: 'tenant', tenant: tenant.id }, budgets);
      return await reply.code(201).send({ ...tenantJson(tenant), budgets: created.map(budgetJson) });
    } catch (err) {
      throw toAdminError(err);
    }
  });

  app.get('/tenants', async () => ({ object: 'list', data: (await store.listTenants()).map(tenantJson) }));

  app.get<{ Params: { id: string } }>('/tenants/:id', async (req) => {
    const tenant = await store.getTenant(req.params.id);
    if (!tenant) throw new GatewayError('not_found', `No tenant with id ${req.params.id}.`);
    const budgets = await budgetsOf(gateway.costs.repository, { tenant: tenant.id });
    return { ...tenantJson(tenant), budgets: budgets.map(budgetJson) };
  });
}
