import type { CallContext } from '../core/context.js';
import type { GatewayResult, Policy } from '../core/pipeline.js';
import type { ChunkBatch } from '../core/chunk-batch.js';
import { AttemptTimer } from '../resilience/attempt-timer.js';
import type { DeploymentRuntime } from '../resilience/deployment-state.js';

/**
 * Bounds one upstream attempt by the deployment's three timeouts (first byte, stall, total; see
 * `AttemptTimer`). The attempt runs on its own AbortSignal, aborted by the client's signal or by
 * a timeout, so the upstream request is torn down either way; the caller gets an
 * `upstream_timeout` whose message names the limit, as soon as the deadline passes, even if the
 * provider is slow to notice the abort.
 *
 * @example compose(breaker(runtime), retry(runtime), attempt(runtime), timeout(runtime), firstChunk())
 */
export function timeout(runtime: DeploymentRuntime): Policy {
  const { deployment } = runtime;
  const limits = runtime.settings.timeouts;
  return {
    name: 'timeout',
    wrap: (next) => async (call, ctx) => {
      const stream = call.kind === 'chat' && call.stream;
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(ctx.signal.reason);
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      const timer = new AttemptTimer(ctx.clock, limits, deployment.id, controller, stream);
      const done = (): void => {
        timer.stop();
        ctx.signal.removeEventListener('abort', onAbort);
      };
      const attemptCtx: CallContext = { ...ctx, signal: controller.signal };
      let result: GatewayResult;
      try {
        result = await timer.race(next(call, attemptCtx));
      } catch (err) {
        done();
        throw err;
      }
      if (result.kind !== 'stream') {
        done();
        return result;
      }
      timer.streaming();
      return { kind: 'stream', batches: timedStream(result.batches, timer, done) };
    },
  };
}

/** The stream, with each batch raced against the timer; `done` runs once however it ends. */
function timedStream(
  source: AsyncIterable<ChunkBatch>,
  timer: AttemptTimer,
  done: () => void,
): AsyncIterable<ChunkBatch> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done();
  };
  const wrapped: AsyncIterableIterator<ChunkBatch> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      let step: IteratorResult<ChunkBatch>;
      timer.waiting();
      try {
        step = await timer.race(iterator.next());
      } catch (err) {
        finish();
        void iterator.return?.()?.catch(() => undefined);
        throw err;
      }
      timer.received();
      if (step.done) finish();
      return step;
    },
    async return() {
      finish();
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}
