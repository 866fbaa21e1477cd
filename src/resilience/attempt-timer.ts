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
 * `upstream_timeout` naming the limit, and the wait in progress (`race`) rejects with the same error.
 *
 * The stall clock runs only while the consumer waits for the next chunk: a client that reads
 * slowly leaves chunks buffered upstream of us, which is not the upstream stalling (and must
 * not count against its circuit breaker).
 *
 * @example const timer = new AttemptTimer(clock, timeouts, 'gpt#0', controller, true);
 *   const first = await timer.race(provider.call()); timer.streaming();
 *   timer.waiting(); const next = await timer.race(iterator.next()); timer.received(); ... timer.stop();
 */
export class AttemptTimer {
  /** The timeout error, once a deadline has passed. */
  private error: GatewayError | null = null;
  /** Rejects the wait in progress (see `race`), if any. */
  private rejectWait: ((error: GatewayError) => void) | null = null;
  private readonly started: number;
  private phase: 'first' | 'stream' = 'first';
  /** While streaming: when the consumer started waiting for the next chunk, or null when it is not waiting. */
  private waitingSince: number | null = null;
  private stopped = false;
  private cancelTimer: (() => void) | null = null;
  /** When the watchdog is set to wake (Infinity when it is not set). */
  private armedFor = Infinity;
  private readonly schedule: (ms: number, fn: () => void) => () => void;

  constructor(
    private readonly clock: Clock,
    private readonly limits: TimeoutSettings,
    private readonly deploymentId: string,
    private readonly controller: AbortController,
    private readonly stream: boolean,
  ) {
    this.schedule = clock.schedule ? clock.schedule.bind(clock) : scheduleWithSleep(clock);
    this.started = clock.now();
    this.arm();
  }

  /**
   * `pending`, unless a deadline passes first: then the timeout error, at once (even if the
   * provider is slow to notice the abort). One wait at a time; nothing is left attached to
   * a long-lived promise, so a long stream does not accumulate reactions.
   */
  race<T>(pending: Promise<T>): Promise<T> {
    if (this.error) {
      pending.catch(() => undefined);
      return Promise.reject(this.error);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectWait = reject;
      pending.then(
        (value) => {
          this.rejectWait = null;
          resolve(value);
        },
        (err: unknown) => {
          this.rejectWait = null;
          reject(err);
        },
      );
    });
  }

  /** The first byte arrived: from now on the stall limit applies while waiting for a chunk. */
  streaming(): void {
    this.phase = 'stream';
    this.arm(); // drops the first-byte deadline; only the total one (if any) remains until the next wait
  }

  /** The consumer asks for the next chunk: the stall clock starts. */
  waiting(): void {
    const now = this.clock.now();
    this.waitingSince = now;
    // Re-set the watchdog only if it would wake too late (or not at all); an early wake re-checks.
    if (this.limits.stallMs > 0 && this.armedFor > now + this.limits.stallMs) this.arm();
  }

  /** The chunk arrived: the stall clock stops until the next wait. */
  received(): void {
    this.waitingSince = null;
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
    this.armedFor = Infinity;
    if (this.stopped) return;
    const [at] = this.nextDeadline();
    if (at === Infinity) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.now()));
    this.armedFor = this.clock.now() + wait;
    this.cancelTimer = this.schedule(wait, () => this.wake());
  }

  private wake(): void {
    this.cancelTimer = null;
    this.armedFor = Infinity;
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
    if (this.phase === 'stream' && stallMs > 0 && this.waitingSince !== null) {
      at = this.waitingSince + stallMs;
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
    this.error = error;
    this.controller.abort(error);
    this.rejectWait?.(error);
    this.rejectWait = null;
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
