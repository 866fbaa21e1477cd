import type { Clock } from '../core/clock.js';
import { SlidingWindow } from './sliding-window.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit (0 = rule off). */
  consecutiveFailures: number;
  /** Failure share over `windowMs` that opens it once `minimumCalls` were seen (0 = rule off). */
  failureRatio: number;
  minimumCalls: number;
  windowMs: number;
  /** First open period; doubles on each failed probe, capped at `maxOpenMs`. */
  openMs: number;
  maxOpenMs: number;
  /** Probes admitted while half-open; that many successes close the circuit. */
  halfOpenProbes: number;
}

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  reason: string;
  /** For `open`: how long until the first probe. */
  openForMs?: number;
}

/** The right to make one call, and the duty to report how it went (exactly once). */
export interface BreakerPermit {
  success(): void;
  failure(reason: string): void;
  /** Neither: the call ended in a way that says nothing about the upstream (client gone, 4xx). */
  release(): void;
}

export interface BreakerSnapshot {
  state: BreakerState;
  /** Monotonic ms of the last transition. */
  since: number;
  /** When open: ms until probes are admitted. */
  retryInMs: number | null;
  consecutiveFailures: number;
  window: { calls: number; failures: number };
  /** Times opened since start. */
  opened: number;
}

/**
 * One deployment's circuit breaker: CLOSED → OPEN on `consecutiveFailures` in a row or on a
 * failure ratio over a sliding window → (after the open period) HALF_OPEN, which admits exactly
 * `halfOpenProbes` probe calls and rejects the rest → CLOSED after that many successes, or OPEN
 * again (for twice as long) on the first failed probe.
 *
 * Which outcomes count is not decided here: callers report through a permit (`success`,
 * `failure`, or `release` for outcomes that say nothing about the upstream). Outcomes reported
 * against an earlier state (a slow call started before the circuit opened) are ignored.
 *
 * @example const breaker = new CircuitBreaker(clock, options, (t) => log.warn(t, 'breaker'));
 *   const permit = breaker.acquire(); // null while open
 *   try { await call(); permit?.success(); } catch { permit?.failure('upstream_error'); }
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private since: number;
  private openUntil = 0;
  private reopenings = 0;
  private consecutive = 0;
  private readonly window: SlidingWindow;
  private probesInFlight = 0;
  private probeSuccesses = 0;
  /** Bumped on every transition; a permit only counts in the generation it was issued in. */
  private generation = 0;
  private opened = 0;

  constructor(
    private readonly clock: Clock,
    private readonly options: BreakerOptions,
    private readonly onTransition: (transition: BreakerTransition) => void = () => undefined,
  ) {
    this.window = new SlidingWindow(clock, options.windowMs);
    this.since = clock.now();
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.clock.now() >= this.openUntil) {
      this.transition('half_open', 'open period over: admitting probes');
    }
    return this.current;
  }

  /** Whether a call would be admitted now (no side effect beyond the open → half-open move). */
  canAttempt(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    return this.probesInFlight + this.probeSuccesses < this.options.halfOpenProbes;
  }

  /** Ms until the circuit admits calls again (0 when it does now). */
  retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.openUntil - this.clock.now()) : 0;
  }

  /** Admits one call, or returns null (open, or every probe slot taken). */
  acquire(): BreakerPermit | null {
    if (!this.canAttempt()) return null;
    const probe = this.current === 'half_open';
    if (probe) this.probesInFlight++;
    const generation = this.generation;
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'release', reason = ''): void => {
      if (settled) return;
      settled = true;
      if (generation !== this.generation) return;
      if (probe) this.probesInFlight--;
      if (outcome === 'success') this.onSuccess(probe);
      else if (outcome === 'failure') this.onFailure(probe, reason);
    };
    return {
      success: () => settle('success'),
      failure: (reason) => settle('failure', reason),
      release: () => settle('release'),
    };
  }

  snapshot(): BreakerSnapshot {
    const state = this.state;
    const { a: successes, b: failures } = this.window.totals();
    return {
      state,
      since: this.since,
      retryInMs: state === 'open' ? Math.max(0, this.openUntil - this.clock.now()) : null,
      consecutiveFailures: this.consecutive,
      window: { calls: successes + failures, failures },
      opened: this.opened,
    };
  }

  private onSuccess(probe: boolean): void {
    this.consecutive = 0;
    if (probe) {
      this.probeSuccesses++;
      if (this.probeSuccesses >= this.options.halfOpenProbes) {
        this.reopenings = 0;
        this.window.reset();
        this.transition('closed', `${this.probeSuccesses} probe(s) succeeded`);
      }
      return;
    }
    this.window.add('a');
  }

  private onFailure(probe: boolean, reason: string): void {
    this.consecutive++;
    if (probe) {
      this.reopenings++;
      this.open(`probe failed: ${reason}`);
      return;
    }
    this.window.add('b');
    const { consecutiveFailures, failureRatio, minimumCalls } = this.options;
    if (consecutiveFailures > 0 && this.consecutive >= consecutiveFailures) {
      this.open(`${this.consecutive} consecutive failures, last: ${reason}`);
      return;
    }
    if (failureRatio > 0) {
      const { a: successes, b: failures } = this.window.totals();
      const calls = successes + failures;
      if (calls >= minimumCalls && failures / calls >= failureRatio) {
        this.open(`${failures} of ${calls} calls failed in ${this.options.windowMs} ms, last: ${reason}`);
      }
    }
  }

  private open(reason: string): void {
    const openForMs = Math.min(this.options.maxOpenMs, this.options.openMs * 2 ** this.reopenings);
    this.openUntil = this.clock.now() + openForMs;
    this.opened++;
    this.transition('open', reason, openForMs);
  }

  private transition(to: BreakerState, reason: string, openForMs?: number): void {
    const from = this.current;
    this.current = to;
    this.since = this.clock.now();
    this.generation++;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    this.onTransition(openForMs === undefined ? { from, to, reason } : { from, to, reason, openForMs });
  }
}
