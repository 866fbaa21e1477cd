import { GatewayError, toGatewayError } from '../core/errors.js';
import type { Policy } from '../core/pipeline.js';
import { exponentialBackoff, retryDelay } from '../resilience/backoff.js';
import type { DeploymentRuntime } from '../resilience/deployment-state.js';

/**
 * Retries a failed attempt on the same deployment, before its commit point only (a stream that
 * reached its first chunk is the caller's now). A retry happens when all of these hold:
 * - the error is retryable (`GatewayError.retryable`, decided once in core/errors.ts);
 * - attempts are left (`retry.maxAttempts`, the first included) and the client is still there;
 * - the upstream's `retry-after`, if any, is at most `retry.retryAfterMaxMs`;
 * - the deployment's circuit has not opened meanwhile;
 * - the deployment's retry budget has a retry left (retries ≤ `budget.ratio` of recent first
 *   attempts, at least `budget.minRetries` per window).
 * Otherwise the last error is thrown at once, for the router to fall back. The wait is
 * exponential with full jitter, and never shorter than the upstream's `retry-after`. Left out of
 * a deployment's chain when `retry.maxAttempts` is 1 (`resilience/deployment-chain.ts`).
 *
 * @example compose(breaker(runtime), retry(runtime), attempt(runtime), timeout(runtime), firstChunk())
 */
export function retry(runtime: DeploymentRuntime): Policy {
  const settings = runtime.settings.retry;
  return {
    name: 'retry',
    wrap: (next) => async (call, ctx) => {
      runtime.budget.recordRequest();
      let backoff: { next(): number } | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(call, ctx);
        } catch (err) {
          const error = toGatewayError(err);
          if (!error.retryable || attempt >= settings.maxAttempts || ctx.signal.aborted) throw error;
          backoff ??= exponentialBackoff(settings);
          const delay = retryDelay(backoff.next(), error.retryAfterMs, settings.retryAfterMaxMs);
          if (delay === null || runtime.breaker.state === 'open' || !runtime.budget.tryRetry()) throw error;
          if (delay === 0) continue;
          try {
            await ctx.clock.sleep(delay, ctx.signal);
          } catch (abort) {
            throw abort instanceof GatewayError
              ? abort
              : new GatewayError('client_closed', 'the call was aborted during a retry backoff', { cause: abort });
          }
        }
      }
    },
  };
}
