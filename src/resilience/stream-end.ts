/** How a stream ended, as seen by whoever wrapped it. */
export type StreamEnd =
  { readonly kind: 'done' } | { readonly kind: 'error'; readonly error: unknown } | { readonly kind: 'return' };

/**
 * Passes a stream through unchanged and calls `onEnd` exactly once when it ends: completed,
 * failed, or stopped by its consumer (`return()`, even before the first `next()`, which an async
 * generator would not notice). Stopping the wrapper stops the source, releasing the upstream.
 *
 * @example const chunks = onStreamEnd(upstream, (end) => permit[end.kind === 'done' ? 'success' : 'release']());
 */
export function onStreamEnd<T>(source: AsyncIterable<T>, onEnd: (end: StreamEnd) => void): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  const end = (how: StreamEnd): void => {
    if (ended) return;
    ended = true;
    onEnd(how);
  };
  const wrapped: AsyncIterableIterator<T> = {
    async next() {
      if (ended) return { done: true, value: undefined };
      let step: IteratorResult<T>;
      try {
        step = await iterator.next();
      } catch (error) {
        end({ kind: 'error', error });
        throw error;
      }
      if (step.done) end({ kind: 'done' });
      return step;
    },
    async return() {
      end({ kind: 'return' });
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}

/**
 * A stream that yields `held` first, then the rest of `iterator` (whose first chunks were read
 * ahead). `return()` stops the underlying iterator even if nothing was read from the wrapper.
 */
export function prepend<T>(held: readonly T[], iterator: AsyncIterator<T>, exhausted: boolean): AsyncIterable<T> {
  let index = 0;
  let closed = false;
  const wrapped: AsyncIterableIterator<T> = {
    async next() {
      if (index < held.length) return { done: false, value: held[index++]! };
      if (exhausted || closed) return { done: true, value: undefined };
      return iterator.next();
    },
    async return() {
      if (!closed && !exhausted) {
        closed = true;
        await iterator.return?.();
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}
