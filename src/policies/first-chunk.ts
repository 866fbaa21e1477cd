import { ChunkBatch } from '../core/chunk-batch.js';
import type { Policy } from '../core/pipeline.js';
import { prepend } from '../resilience/stream-end.js';

/** Opening chunks held back at most; a stream that sends more before any content commits anyway. */
const MAX_HELD = 8;

/**
 * The commit point of a stream, inside the pipeline: reads ahead to the first real chunk (the
 * content-less opening chunks, `isPreamble`, are held back), then hands over a stream whose
 * first batch is everything read so far. A stream that fails before that point throws from the
 * handler, so retry and fallback can still act — nothing has reached the client. Innermost
 * policy: the timeout above it therefore measures time to first token. Only the batches read
 * before the commit point are parsed here.
 *
 * @example compose(breaker(runtime), retry(runtime), attempt(runtime), timeout(runtime), firstChunk())
 */
export function firstChunk(): Policy {
  return {
    name: 'first-chunk',
    wrap: (next) => async (call, ctx) => {
      const result = await next(call, ctx);
      if (result.kind !== 'stream') return result;
      const iterator = result.batches[Symbol.asyncIterator]();
      const held: ChunkBatch[] = [];
      let chunks = 0;
      let exhausted = false;
      try {
        for (;;) {
          const step = await iterator.next();
          if (step.done) {
            exhausted = true;
            break;
          }
          held.push(step.value);
          chunks += step.value.size;
          if (!step.value.isPreamble() || chunks >= MAX_HELD) break;
        }
      } catch (err) {
        void iterator.return?.()?.catch(() => undefined);
        throw err;
      }
      const first = held.length > 0 ? [ChunkBatch.concat(held)] : [];
      return { kind: 'stream', batches: prepend(first, iterator, exhausted) };
    },
  };
}
