import type { FastifyInstance } from 'fastify';
import { parseUsageParams } from '../../usage/usage-report-format.js';
import { GatewayError } from '../../core/errors.js';
import type { InternalGateway } from '../../gateway.js';
import { principalFor } from '../edge-auth.js';
import { singleValued } from './query-params.js';
import { sendUsageReport, type UsageRequest } from './admin-usage.js';

/**
 * `GET /v1/tollgate/usage`: the caller's own tenant's usage, with the same parameters and formats
 * as the admin report. The tenant comes from the key and is forced into the query; asking for
 * another tenant is 403.
 */
export function registerTenantUsageRoute(app: FastifyInstance, gateway: InternalGateway): void {
  app.get('/v1/tollgate/usage', async (req: UsageRequest, reply) => {
    const principal = principalFor(req); // authenticated on the headers (edge-auth.ts)
    if (principal.tenant === null)
      throw new GatewayError('unauthorized', 'Usage is reported per tenant: call with your virtual key (tg-…).', {
        wireCode: 'invalid_api_key',
      });
    const params = singleValued(req.query);
    if (params.tenant !== undefined && params.tenant !== principal.tenant)
      throw new GatewayError('forbidden', "This key may read its own tenant's usage only.", { param: 'tenant' });
    const query = parseUsageParams(params, gateway.clock.wallNow());
    return sendUsageReport(gateway, req, reply, { ...query, tenant: principal.tenant });
  });
}
