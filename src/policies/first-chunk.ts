import type { DeploymentPolicy } from '../core/pipeline.js';
import type { ChatChunk } from '../core/types.js';
import { prepend } from '../resilience/stream-end.js';

/** Empty chunks held back at most; a stream that sends more before any content commits anyway. */
const MAX_HELD = 8;

/**
 * The commit point of a stream, moved to its first chunk with content: reads ahead until one
 * arrives (the role-only opening chunk is held back), then hands over a stream that replays the
 * held chunks first. A stream that fails before that point throws from the handler, so retry and
 * fallback can still act — nothing has reached the client. Innermost policy: the timeout above
 * it therefore measures time to first token.
 *
 * @example composeDeployment(breaker(states), retry(states), timeout(states), firstChunk())(invokeProvider(providers))
 */
export function firstChunk(): DeploymentPolicy {
  return {
    name: 'first-chunk',
    wrap: (next) => async (call, deployment, ctx) => {
      const result = await next(call, deployment, ctx);
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
          if (hasContent(step.value) || held.length >= MAX_HELD) break;
        }
      } catch (err) {
        void iterator.return?.()?.catch(() => undefined);
        throw err;
      }
      return { kind: 'stream', chunks: prepend(held, iterator, exhausted) };
    },
  };
}

/** Anything but an opening chunk: text, tool calls, a refusal, a finish reason, usage, or fields we do not know. */
export function hasContent(chunk: ChatChunk): boolean {
  if (chunk.usage) return true;
  for (const choice of chunk.choices) {
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) return true;
    for (const key in choice.delta) {
      if (key === 'role') continue;
      const value = choice.delta[key];
      if (value !== null && value !== undefined && value !== '') return true;
    }
  }
  return false;
}
