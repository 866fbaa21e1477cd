import type { FastifyInstance } from 'fastify';
import type { InternalGateway } from '../../gateway.js';
import { checkAdminAccess } from '../../tenancy/admin-access.js';
import { registerAdminKeyRoutes } from './admin-keys.js';
import { registerAdminTenantRoutes } from './admin-tenants.js';
import { registerAdminUsageRoutes } from './admin-usage.js';

/**
 * The admin API under `/admin/v1`: every route behind one guard (the admin key, compared in
 * constant time; tenant keys get 403; disabled → 404 when `admin.apiKey` is not set).
 *
 * @example registerAdminRoutes(app, gateway);
 */
export function registerAdminRoutes(app: FastifyInstance, gateway: InternalGateway): void {
  const { tenancy } = gateway;
  void app.register(
    async (admin) => {
      admin.addHook('onRequest', async (req) => {
        await checkAdminAccess(req.headers, tenancy.adminKey, tenancy.authenticator);
      });
      registerAdminTenantRoutes(admin, gateway);
      registerAdminKeyRoutes(admin, gateway);
      registerAdminUsageRoutes(admin, gateway);
    },
    { prefix: '/admin/v1' },
  );
}
