import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseUsageParams, usageReportCsv, usageReportJson } from '../../usage/usage-report-format.js';
import { usageReport, type UsageQuery } from '../../usage/usage-report.js';
import { GatewayError } from '../../core/errors.js';
import type { InternalGateway } from '../../gateway.js';
import { singleValued } from './query-params.js';

export type UsageRequest = FastifyRequest<{ Querystring: Record<string, string | undefined> }>;

/** Whether the client asked for CSV (`format=csv`, or an Accept header preferring `text/csv`). */
function wantsCsv(req: UsageRequest): boolean {
  const format = singleValued(req.query).format?.trim().toLowerCase();
  if (format === 'csv') return true;
  if (format === 'json') return false;
  if (format)
    throw new GatewayError('invalid_request', `Invalid usage query: 'format' must be one of json, csv.`, {
      param: 'format',
    });
  const accept = req.headers.accept ?? '';
  return accept.includes('text/csv') && !accept.startsWith('application/json');
}

/** Runs the report and replies in JSON or CSV. */
export async function sendUsageReport(
  gateway: InternalGateway,
  req: UsageRequest,
  reply: FastifyReply,
  query: UsageQuery,
): Promise<FastifyReply> {
  const report = await usageReport(gateway.database, query);
  if (!wantsCsv(req)) return reply.send(usageReportJson(report));
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="usage-${day(query.from)}-${day(query.to)}.csv"`)
    .send(usageReportCsv(report));
}

/**
 * `GET /admin/v1/usage?group_by=tenant,feature,model,key&from&to&interval=day&tenant=&key=&format=csv`:
 * every tenant's usage (or one tenant's), aggregated from the ledger.
 */
export function registerAdminUsageRoutes(app: FastifyInstance, gateway: InternalGateway): void {
  app.get('/usage', async (req: UsageRequest, reply) => {
    const params = singleValued(req.query);
    const query = parseUsageParams(params, gateway.clock.wallNow());
    const tenant = params.tenant;
    return sendUsageReport(gateway, req, reply, tenant ? { ...query, tenant } : query);
  });
}
