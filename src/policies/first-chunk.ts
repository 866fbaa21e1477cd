import { isPreamble } from '../core/chunks.js';
import type { Policy } from '../core/pipeline.js';
import type { ChatChunk } from '../core/types.js';
import { prepend } from '../resilience/stream-end.js';

/** Opening chunks held back at most; a stream that sends more before any content commits anyway. */
const MAX_HELD = 8;

/**
 * The commit point of a stream, inside the pipeline: reads ahead to the first real chunk (the
 * content-less opening chunks, `isPreamble`, are held back), then hands over a stream that
 * replays the held chunks first. A stream that fails before that point throws from the handler, so retry and
 * fallback can still act — nothing has reached the client. Innermost policy: the timeout above
 * it therefore measures time to first token.
 *
 * @example composeDeployment(breaker(states), retry(states), timeout(states), firstChunk())(invokeProvider(providers))
 */
export function firstChunk(): Policy {
  return {
    name: 'first-chunk',
    wrap: (next) => async (call, ctx) => {
      const result = await next(call, ctx);
      if (result.kind !== 'stream') return result;
      const iterator = result.chunks[Symbol.asyncIterator]();
      const held: ChatChunk[] = [];
      let exhausted = false;
      try {
        for (;;) {
          const step = await iterator.next();
          if (step.done) {
            exhausted = true;
            break;
          }
          held.push(step.value);
          if (!isPreamble(step.value) || held.length >= MAX_HELD) break;
        }
      } catch (err) {
        void iterator.return?.()?.catch(() => undefined);
        throw err;
      }
      return { kind: 'stream', chunks: prepend(held, iterator, exhausted) };
    },
  };
}
