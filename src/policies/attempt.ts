import type { AttemptRecord } from '../core/context.js';
import { toGatewayError } from '../core/errors.js';
import type { Policy } from '../core/pipeline.js';
import type { DeploymentRuntime } from '../resilience/deployment-state.js';
import { onStreamEnd } from '../resilience/stream-end.js';

/**
 * Records every upstream attempt in the call record (deployment, outcome, status, latency to
 * the commit point) and keeps the deployment's load figures: attempts in flight (a stream until it
 * ends) and the latency EWMA of successful attempts. A stream that fails after its commit point
 * has its attempt's outcome rewritten to the error, so the record says what really happened. An
 * attempt answered with a `retry-after` (429/503/529) notes it on the deployment's
 * `UpstreamPause`, which the router honours for the requests that follow.
 *
 * @example compose(breaker(runtime), retry(runtime), attempt(runtime), timeout(runtime), firstChunk())
 */
export function attempt(runtime: DeploymentRuntime): Policy {
  const { deployment } = runtime;
  return {
    name: 'attempt',
    wrap: (next) => async (call, ctx) => {
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
        const result = await next(call, ctx);
        record.latencyMs = ctx.clock.now() - started;
        record.outcome = 'ok';
        record.status = 200;
        runtime.recordLatency(record.latencyMs);
        if (result.kind !== 'stream') {
          runtime.inFlight--;
          return result;
        }
        const batches = onStreamEnd(result.batches, (end) => {
          runtime.inFlight--;
          if (end.kind === 'error') fail(end.error);
        });
        return { kind: 'stream', batches };
      } catch (err) {
        runtime.inFlight--;
        record.latencyMs = ctx.clock.now() - started;
        fail(err);
        // An upstream's retry-after (429/503/529) pauses the deployment for the requests that follow.
        runtime.pause.note(toGatewayError(err));
        throw err;
      }
    },
  };
}
