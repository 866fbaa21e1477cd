import type { AttemptRecord } from '../core/context.js';
import { toGatewayError } from '../core/errors.js';
import type { DeploymentPolicy } from '../core/pipeline.js';
import type { DeploymentStates } from '../resilience/deployment-state.js';
import { onStreamEnd } from '../resilience/stream-end.js';

/**
 * Records every upstream attempt in the call record (deployment, outcome, status, latency to
 * the commit point) and keeps the deployment's load figures: attempts in flight (a stream until it
 * ends) and the latency EWMA of successful attempts. A stream that fails after its commit point
 * has its attempt's outcome rewritten to the error, so the record says what really happened.
 *
 * @example composeDeployment(breaker(states), retry(states), attempt(states), timeout(states), firstChunk())
 */
export function attempt(states: DeploymentStates): DeploymentPolicy {
  return {
    name: 'attempt',
    wrap: (next) => async (call, deployment, ctx) => {
      const runtime = states.get(deployment);
      const started = ctx.clock.now();
      const record: AttemptRecord = {
        deployment: deployment.id,
        provider: deployment.provider,
        outcome: 'pending',
        status: 0,
        latencyMs: 0,
      };
      ctx.record.attempts.push(record);
      runtime.inFlight++;
      const fail = (err: unknown): void => {
        const error = toGatewayError(err);
        record.outcome = error.code;
        record.status = error.upstreamStatus ?? error.status;
      };
      try {
        const result = await next(call, deployment, ctx);
        record.latencyMs = ctx.clock.now() - started;
        record.outcome = 'ok';
        record.status = 200;
        runtime.recordLatency(record.latencyMs);
        if (result.kind !== 'stream') {
          runtime.inFlight--;
          return result;
        }
        const chunks = onStreamEnd(result.chunks, (end) => {
          runtime.inFlight--;
          if (end.kind === 'error') fail(end.error);
        });
        return { kind: 'stream', chunks };
      } catch (err) {
        runtime.inFlight--;
        record.latencyMs = ctx.clock.now() - started;
        fail(err);
        throw err;
      }
    },
  };
}
