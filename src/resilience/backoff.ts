import { ExponentialBackoff, fullJitterGenerator, noJitterGenerator, type IBackoff } from 'cockatiel';

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** `full`: uniform in [0, exponential delay) (AWS "full jitter"); `none`: the exponential delay itself. */
  jitter: 'full' | 'none';
}

/**
 * Exponential backoff, cockatiel's generators: retry n waits `min(maxDelayMs, initialDelayMs × 2^(n-1))`,
 * scaled by a uniform draw in [0, 1) under full jitter. One instance per call; `next()` gives the
 * delay before the next retry.
 *
 * @example const backoff = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'none' });
 *   [backoff.next(), backoff.next(), backoff.next()] // → [100, 200, 400]
 */
export function exponentialBackoff(options: BackoffOptions): { next(): number } {
  const factory = new ExponentialBackoff({
    generator: options.jitter === 'full' ? fullJitterGenerator : noJitterGenerator,
    initialDelay: options.initialDelayMs,
    maxDelay: options.maxDelayMs,
  });
  let current: IBackoff<unknown> | undefined;
  return {
    next() {
      current = current ? current.next(undefined) : factory.next();
      return current.duration;
    },
  };
}

/**
 * How long to wait before retrying, given the backoff's delay and the upstream's `retry-after`:
 * never sooner than the upstream asked, and `null` (do not retry here) when it asked for longer than
 * `retryAfterMaxMs` — better to fall back, or to hand the wait to the client, than to hold the request.
 *
 * @example retryDelay(120, 500, 2_000) // → 500
 * @example retryDelay(120, 30_000, 2_000) // → null
 */
export function retryDelay(
  backoffMs: number,
  retryAfterMs: number | undefined,
  retryAfterMaxMs: number,
): number | null {
  if (retryAfterMs === undefined) return backoffMs;
  if (retryAfterMs > retryAfterMaxMs) return null;
  return Math.max(backoffMs, retryAfterMs);
}
