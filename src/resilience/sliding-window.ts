import type { Clock } from '../core/clock.js';

/**
 * Counts two kinds of event (`a`, `b`: successes and failures, requests and retries) over the last
 * `windowMs`, in `buckets` equal slices on the clock. Memory is constant; a count leaves the window
 * at the granularity of one bucket (windowMs / buckets), never later.
 *
 * @example const w = new SlidingWindow(clock, 10_000); w.add('a'); w.add('b', 2); w.totals() // → { a: 1, b: 2 }
 */
export class SlidingWindow {
  private readonly bucketMs: number;
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  /** Index (time / bucketMs) of the newest bucket. */
  private head = -1;
  private sumA = 0;
  private sumB = 0;

  constructor(
    private readonly clock: Clock,
    windowMs: number,
    private readonly buckets = 10,
  ) {
    this.bucketMs = Math.max(1, windowMs / buckets);
    this.a = new Float64Array(buckets);
    this.b = new Float64Array(buckets);
  }

  add(kind: 'a' | 'b', n = 1): void {
    const slot = this.rotate();
    if (kind === 'a') {
      this.a[slot]! += n;
      this.sumA += n;
    } else {
      this.b[slot]! += n;
      this.sumB += n;
    }
  }

  totals(): { a: number; b: number } {
    this.rotate();
    return { a: this.sumA, b: this.sumB };
  }

  reset(): void {
    this.a.fill(0);
    this.b.fill(0);
    this.sumA = 0;
    this.sumB = 0;
  }

  /** Clears the buckets that fell out of the window; returns the current bucket's slot. */
  private rotate(): number {
    const index = Math.floor(this.clock.now() / this.bucketMs);
    if (index !== this.head) {
      const steps = this.head < 0 ? this.buckets : Math.min(this.buckets, index - this.head);
      for (let i = 1; i <= steps; i++) {
        const slot = (((this.head + i) % this.buckets) + this.buckets) % this.buckets;
        this.sumA -= this.a[slot]!;
        this.sumB -= this.b[slot]!;
        this.a[slot] = 0;
        this.b[slot] = 0;
      }
      this.head = index;
    }
    return ((index % this.buckets) + this.buckets) % this.buckets;
  }
}
