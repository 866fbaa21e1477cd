import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InternalGateway } from '../../gateway.js';
import { checkAdminAccess } from '../../tenancy/admin-access.js';
import { credentialFrom } from '../../tenancy/credentials.js';
import type { Lifecycle } from '../lifecycle.js';
import type { OverloadGate } from '../overload.js';

/**
 * `/health/live`: the process is up (never checks dependencies, so a database blip does not
 * restart pods). `/health/ready`: every dependency answered within `server.readinessTimeoutMs`
 * and we are not shutting down; the body names each check with a fixed word (`ok`, `timeout`,
 * `unreachable`) — the detail, which names hosts and ports, goes to the log. `/health`: the same
 * terse answer for everyone; with the admin key (`admin.apiKey`) also in-flight counts, the overload
 * gate's figures (calls in flight, event-loop delay, calls shed since start) and every
 * deployment's circuit breaker, load and retry budget, which outsiders have no business seeing.
 * Both probes are public (Kubernetes calls them without credentials). An open circuit does not
 * fail readiness: it is the upstream's trouble, the router already works around it, and
 * restarting replicas would not help.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  gateway: InternalGateway,
  lifecycle: Lifecycle,
  overload?: OverloadGate,
): void {
  /** True when the caller sent the admin key; a wrong credential is refused (401/403) rather than ignored. */
  const isAdmin = async (req: FastifyRequest): Promise<boolean> => {
    const adminKey = gateway.tenancy.adminKey;
    if (adminKey === null || credentialFrom(req.headers) === null) return false;
    await checkAdminAccess(req.headers, adminKey, gateway.tenancy.authenticator);
    return true;
  };

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_req, reply) => {
    if (!lifecycle.ready) return reply.code(503).send({ status: 'shutting_down' });
    const report = await gateway.readiness();
    return reply
      .code(report.ready ? 200 : 503)
      .send({ status: report.ready ? 'ok' : 'unavailable', checks: report.checks });
  });
  app.get('/health', async (req, reply) => {
    const admin = await isAdmin(req);
    const report = await gateway.readiness();
    const status = !lifecycle.ready ? 'shutting_down' : report.ready ? 'ok' : 'unavailable';
    void reply.code(report.ready && lifecycle.ready ? 200 : 503);
    if (!admin) return { status, checks: report.checks };
    return {
      status,
      checks: report.checks,
      inFlight: { requests: lifecycle.activeRequests, streams: lifecycle.activeStreams },
      ...(overload ? { overload: overload.status() } : {}),
      models: gateway.models.list().map((m) => ({
        alias: m.name,
        type: m.type,
        deployments: gateway.deployments.status(m),
      })),
    };
  });
}
