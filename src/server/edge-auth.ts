import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import type { Authenticator } from '../tenancy/authenticator.js';

/** Where the edge leaves the principal on the request (a plain property: no per-request WeakMap entry). */
const PRINCIPAL = Symbol('tollgate.principal');
type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: Principal };

/**
 * Authenticates every `/v1/…` route on the request's headers, before its body is read: an
 * unknown or missing key gets its 401 (in the route's dialect) without the body ever being
 * buffered, so a client without a key cannot make the gateway hold megabytes for it. It is the
 * same `Authenticator` the `authenticate` policy uses; the call context then receives the
 * principal as vouched for (`principalFor`), and the policy still applies the key's model list.
 * Refusals are logged by the error handler; they get no ledger row (docs/architecture.md).
 * A cached key (or no key required) is decided synchronously: no promise per request.
 */
export function registerEdgeAuthentication(app: FastifyInstance, authenticator: Authenticator): void {
  app.addHook('onRequest', (req: WithPrincipal, _reply, done) => {
    if (req.routeOptions.url?.startsWith('/v1/') !== true) return done();
    let principal: Principal | Promise<Principal>;
    try {
      principal = authenticator.resolve(req.headers);
    } catch (err) {
      return done(err as Error);
    }
    if (!(principal instanceof Promise)) {
      req[PRINCIPAL] = principal;
      return done();
    }
    principal.then((resolved) => {
      req[PRINCIPAL] = resolved;
      done();
    }, done);
  });
}

/** The principal the edge established for this `/v1` request. */
export function principalFor(req: FastifyRequest): Principal {
  const principal = (req as WithPrincipal)[PRINCIPAL];
  if (principal === undefined)
    throw new GatewayError('internal_error', `no principal for ${req.method} ${req.url}: not a /v1 route`);
  return principal;
}
