import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway.js';
import type { Lifecycle } from '../lifecycle.js';

/**
 * `/health/live`: the process is up (never checks dependencies, so a database blip does not
 * restart pods). `/health/ready`: storage reachable and not shutting down. `/health`: both, plus
 * every deployment's circuit breaker, load and retry budget. An open circuit does not fail
 * readiness: it is the upstream's trouble, the router already works around it, and restarting
 * replicas would not help.
 */
export function registerHealthRoutes(app: FastifyInstance, gateway: Gateway, lifecycle: Lifecycle): void {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_req, reply) => {
    if (!lifecycle.ready) return reply.code(503).send({ status: 'shutting_down' });
    const report = await gateway.readiness();
    return reply
      .code(report.ready ? 200 : 503)
      .send({ status: report.ready ? 'ok' : 'unavailable', checks: report.checks });
  });
  app.get('/health', async (_req, reply) => {
    const report = await gateway.readiness();
    return reply.code(report.ready && lifecycle.ready ? 200 : 503).send({
      status: !lifecycle.ready ? 'shutting_down' : report.ready ? 'ok' : 'unavailable',
      checks: report.checks,
      inFlight: { requests: lifecycle.activeRequests, streams: lifecycle.activeStreams },
      models: gateway.models.list().map((m) => ({
        alias: m.name,
        type: m.type,
        deployments: gateway.deployments.status(m),
      })),
    });
  });
}
