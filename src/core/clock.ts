/** Time as the gateway sees it: injectable so timeouts and backoff are testable with a fake. */
export interface Clock {
  /** Milliseconds, monotonic (not wall time). */
  now(): number;
  /** Wall-clock milliseconds since the epoch (for ledger timestamps). */
  wallNow(): number;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `fn` after `ms`; the returned function cancels it. Optional: timeouts use it when
   * present (no promise, no AbortSignal, which costs microseconds per call in Node 20) and fall
   * back to `sleep` otherwise.
   */
  schedule?(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  schedule: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * A clock driven by hand, for tests: `advance(ms)` fires every sleeper whose time has come, in
 * order, letting promise callbacks run between them.
 */
export class FakeClock implements Clock {
  private current = 0;
  private wall: number;
  private sleepers: { at: number; resolve: () => void }[] = [];

  constructor(wallStart = Date.UTC(2026, 0, 1)) {
    this.wall = wallStart;
  }

  now(): number {
    return this.current;
  }

  wallNow(): number {
    return this.wall + this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const sleeper = { at: this.current + Math.max(0, ms), resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  schedule(ms: number, fn: () => void): () => void {
    const sleeper = { at: this.current + Math.max(0, ms), resolve: fn };
    this.sleepers.push(sleeper);
    return () => {
      this.sleepers = this.sleepers.filter((s) => s !== sleeper);
    };
  }

  /** Moves time forward by `ms`, waking sleepers in deadline order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (!next || next.at > target) break;
      this.sleepers.shift();
      this.current = next.at;
      next.resolve();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Number of pending sleeps (handy to assert that nothing waits). */
  get pending(): number {
    return this.sleepers.length;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
