import { GatewayError, isRequestFault, toGatewayError, type ErrorCode } from '../core/errors.js';
import type { Policy } from '../core/pipeline.js';
import type { Deployment } from '../core/types.js';
import type { BreakerPermit } from '../resilience/circuit-breaker.js';
import type { DeploymentRuntime } from '../resilience/deployment-state.js';
import { onStreamEnd } from '../resilience/stream-end.js';
import { DeploymentPausedError } from '../resilience/upstream-pause.js';

/**
 * The failures that say a deployment is unhealthy. Not counted: anything the request itself
 * caused (`isRequestFault`: invalid or unsendable requests, upstream 4xx, context length, content
 * filter), rate limits (the upstream is up and said when to come back), client disconnects and
 * shutdown cuts. The breaker itself only counts what this says.
 */
const BREAKER_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'upstream_error',
  'upstream_timeout',
  'upstream_unavailable',
  'upstream_auth_failed',
]);

export function countsAsBreakerFailure(error: GatewayError): boolean {
  return !isRequestFault(error) && BREAKER_FAILURES.has(error.code);
}

/** A deployment skipped because its circuit is open (or every half-open probe slot is taken). */
export class CircuitOpenError extends GatewayError {
  constructor(
    readonly deployment: Deployment,
    readonly retryInMs: number,
  ) {
    super(
      'upstream_unavailable',
      `${deployment.id}: circuit open${retryInMs > 0 ? `, probes in ${Math.ceil(retryInMs / 1000)} s` : ', probes in progress'}`,
      { retryAfterMs: Math.max(1_000, retryInMs) },
    );
  }
}

/**
 * Outermost per-deployment policy, the deployment's one admission: refuses the call while its
 * upstream's `retry-after` pause runs (`DeploymentPausedError`) or its circuit is open
 * (`CircuitOpenError`) — the router treats both as "skip", not as an attempt — and
 * reports the outcome once the deployment is done with the call — for a stream, when the stream
 * ends, so a stream that breaks after its first chunk counts as the failure it is.
 *
 * @example compose(breaker(runtime), retry(runtime), attempt(runtime), timeout(runtime), firstChunk())
 */
export function breaker(runtime: DeploymentRuntime): Policy {
  const { deployment, breaker: circuit } = runtime;
  return {
    name: 'breaker',
    wrap: (next) => async (call, ctx) => {
      if (runtime.pause.remainingMs() > 0) throw new DeploymentPausedError(deployment, runtime.pause.snapshot()!);
      const permit = circuit.acquire();
      if (!permit) throw new CircuitOpenError(deployment, circuit.retryInMs());
      let result;
      try {
        result = await next(call, ctx);
      } catch (err) {
        report(permit, err);
        throw err;
      }
      if (result.kind !== 'stream') {
        permit.success();
        return result;
      }
      const batches = onStreamEnd(result.batches, (end) => {
        if (end.kind === 'done') permit.success();
        else if (end.kind === 'error') report(permit, end.error);
        else permit.release();
      });
      return { kind: 'stream', batches };
    },
  };
}

function report(permit: BreakerPermit, err: unknown): void {
  const error = toGatewayError(err);
  if (countsAsBreakerFailure(error)) permit.failure(error.code);
  else permit.release();
}
