import type { Clock } from '../core/clock.js';
import { SlidingWindow } from './sliding-window.js';

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt over the window (0.2 = 20 %). */
  ratio: number;
  windowMs: number;
  /** Retries always allowed per window, whatever the traffic. */
  minRetries: number;
}

/**
 * Envoy's retry budget, over a sliding window instead of active requests: a retry is allowed
 * while `retries + 1 ≤ max(minRetries, ratio × requests)` over the last `windowMs`. When an
 * upstream fails everything, traffic to it is multiplied by at most `1 + ratio` (plus
 * `minRetries` per window), instead of by `maxAttempts`.
 *
 * @example const budget = new RetryBudget(clock, { ratio: 0.2, windowMs: 10_000, minRetries: 0 });
 *   for (let i = 0; i < 10; i++) budget.recordRequest();
 *   budget.tryRetry(); budget.tryRetry(); budget.tryRetry() // → true, true, false
 */
export class RetryBudget {
  private readonly window: SlidingWindow;
  /** Retries refused since start, for /health. */
  refused = 0;

  constructor(
    clock: Clock,
    private readonly options: RetryBudgetOptions,
  ) {
    this.window = new SlidingWindow(clock, options.windowMs);
  }

  /** A first attempt (not a retry) was sent. */
  recordRequest(): void {
    this.window.add('a');
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean {
    const { a: requests, b: retries } = this.window.totals();
    if (retries + 1 > Math.max(this.options.minRetries, this.options.ratio * requests)) {
      this.refused++;
      return false;
    }
    this.window.add('b');
    return true;
  }

  /** Retries still allowed right now. */
  available(): number {
    const { a: requests, b: retries } = this.window.totals();
    return Math.max(0, Math.floor(Math.max(this.options.minRetries, this.options.ratio * requests) - retries));
  }
}
