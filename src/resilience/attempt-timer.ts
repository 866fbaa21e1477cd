import type { Clock } from '../core/clock.js';
import { GatewayError } from '../core/errors.js';
import type { TimeoutSettings } from './settings.js';

type Limit = 'firstByteMs' | 'stallMs' | 'totalMs';

/** Longest single timer (setTimeout's limit); a longer deadline is reached in several wakes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The three timeouts of one upstream attempt, on one watchdog timer: until the first byte
 * (`firstByteMs`: the response, or a stream's first content chunk), between chunks (`stallMs`),
 * and overall (`totalMs`); 0 turns one off. The watchdog is set for the nearest deadline and,
 * if activity moved it meanwhile, set again for the rest, so a stream costs one timer rather
 * than one per chunk. When a deadline passes it aborts the attempt's controller with an
 * `upstream_timeout` naming the limit, and `expired` rejects with the same error.
 *
 * @example const timer = new AttemptTimer(clock, timeouts, 'gpt#0', controller, true);
 *   const first = await Promise.race([provider.call(), timer.expired]); timer.streaming(); ... timer.stop();
 */
export class AttemptTimer {
  /** Rejects with the timeout error when a deadline passes; never resolves. */
  readonly expired: Promise<never>;
  private reject!: (error: GatewayError) => void;
  private readonly started: number;
  private phase: 'first' | 'stream' = 'first';
  private lastActivity: number;
  private stopped = false;
  private cancelTimer: (() => void) | null = null;
  private readonly schedule: (ms: number, fn: () => void) => () => void;

  constructor(
    private readonly clock: Clock,
    private readonly limits: TimeoutSettings,
    private readonly deploymentId: string,
    private readonly controller: AbortController,
    private readonly stream: boolean,
  ) {
    this.expired = new Promise<never>((_resolve, reject) => (this.reject = reject));
    this.expired.catch(() => undefined); // observed through races; never an unhandled rejection
    this.schedule = clock.schedule ? clock.schedule.bind(clock) : scheduleWithSleep(clock);
    this.started = clock.now();
    this.lastActivity = this.started;
    this.arm();
  }

  /** The first byte arrived: from now on the stall limit applies between chunks. */
  streaming(): void {
    this.phase = 'stream';
    this.lastActivity = this.clock.now();
    this.arm(); // the watchdog may be set for the first-byte deadline, later than the first stall one
  }

  /** A chunk arrived. */
  touch(): void {
    this.lastActivity = this.clock.now();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** (Re)sets the watchdog for the nearest deadline of the current phase. */
  private arm(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.stopped) return;
    const [at] = this.nextDeadline();
    if (at === Infinity) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.now()));
    this.cancelTimer = this.schedule(wait, () => this.wake());
  }

  private wake(): void {
    this.cancelTimer = null;
    if (this.stopped) return;
    const [at, limit] = this.nextDeadline();
    if (at <= this.clock.now()) this.fire(limit);
    else this.arm();
  }

  /** The nearest armed deadline and the limit it comes from (totalMs wins a tie: it is the one that was reached). */
  private nextDeadline(): [number, Limit] {
    const { firstByteMs, stallMs, totalMs } = this.limits;
    let at = Infinity;
    let limit: Limit = 'totalMs';
    if (this.phase === 'first' && firstByteMs > 0) {
      at = this.started + firstByteMs;
      limit = 'firstByteMs';
    }
    if (this.phase === 'stream' && stallMs > 0) {
      at = this.lastActivity + stallMs;
      limit = 'stallMs';
    }
    if (totalMs > 0 && this.started + totalMs <= at) {
      at = this.started + totalMs;
      limit = 'totalMs';
    }
    return [at, limit];
  }

  private fire(limit: Limit): void {
    const ms = this.limits[limit];
    const id = this.deploymentId;
    const message =
      limit === 'firstByteMs'
        ? `${id}: no ${this.stream ? 'first token' : 'response'} within ${ms} ms (timeouts.firstByteMs)`
        : limit === 'stallMs'
          ? `${id}: the stream stalled: no chunk for ${ms} ms (timeouts.stallMs)`
          : `${id}: the attempt took longer than ${ms} ms (timeouts.totalMs)`;
    const error = new GatewayError('upstream_timeout', message, { headers: { 'x-tollgate-timeout': limit } });
    this.stopped = true;
    this.controller.abort(error);
    this.reject(error);
  }
}

/** `schedule` for a Clock that only has `sleep`. */
function scheduleWithSleep(clock: Clock): (ms: number, fn: () => void) => () => void {
  return (ms, fn) => {
    const cancel = new AbortController();
    clock.sleep(ms, cancel.signal).then(fn, () => undefined);
    return () => cancel.abort();
  };
}
