import type { Clock } from '../core/clock.js';
import { GatewayError } from '../core/errors.js';
import type { Deployment } from '../core/types.js';

/** Upstream answers whose `retry-after` pauses the deployment: rate limited, unavailable, Anthropic's overloaded. */
const PAUSE_STATUSES: ReadonlySet<number> = new Set([429, 503, 529]);

export interface PauseSnapshot {
  /** Ms until the deployment is tried again. */
  remainingMs: number;
  /** The upstream status that asked for the pause. */
  status: number;
  /** How long the upstream asked for (before the `maxPauseMs` cap). */
  askedMs: number;
}

/**
 * A deployment's remembered `retry-after`: when an upstream answers 429, 503 or 529 with a
 * `retry-after` (or `retry-after-ms`; providers/http/retry-after.ts reads both, as the SDKs do),
 * the router skips the deployment for that long on every request — no attempt, on to the next
 * deployment — instead of asking again and being told the same. The pause is capped at
 * `resilience.maxPauseMs` (0: pauses are not remembered), so a hostile or buggy upstream cannot
 * park a deployment for hours. A later answer can lengthen a pause, never shorten it.
 *
 * @example const pause = new UpstreamPause(clock, 60_000);
 *   pause.note(new GatewayError('rate_limited', '…', { upstreamStatus: 429, retryAfterMs: 5_000 }));
 *   pause.remainingMs(); // → 5000
 */
export class UpstreamPause {
  private until = 0;
  private status = 0;
  private askedMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxPauseMs: number,
    private readonly onPause: (snapshot: PauseSnapshot) => void = () => undefined,
  ) {}

  /** Remembers the pause an upstream error asks for, if it asks for one. */
  note(error: GatewayError): void {
    const asked = error.retryAfterMs;
    if (this.maxPauseMs <= 0 || asked === undefined || asked <= 0) return;
    if (error.upstreamStatus === undefined || !PAUSE_STATUSES.has(error.upstreamStatus)) return;
    const until = this.clock.now() + Math.min(asked, this.maxPauseMs);
    if (until <= this.until) return;
    this.until = until;
    this.status = error.upstreamStatus;
    this.askedMs = asked;
    this.onPause(this.snapshot()!);
  }

  /** Ms until the deployment may be tried again; 0 when it may be now. */
  remainingMs(): number {
    return Math.max(0, this.until - this.clock.now());
  }

  /** For `GET /health`: the pause in force, or null. */
  snapshot(): PauseSnapshot | null {
    const remainingMs = this.remainingMs();
    return remainingMs > 0 ? { remainingMs, status: this.status, askedMs: this.askedMs } : null;
  }
}

/** A deployment skipped because its upstream asked for a pause that has not ended. */
export class DeploymentPausedError extends GatewayError {
  constructor(
    readonly deployment: Deployment,
    pause: PauseSnapshot,
  ) {
    super(
      pause.status === 429 ? 'rate_limited' : 'upstream_unavailable',
      `${deployment.id}: paused at the upstream's request (${pause.status} with retry-after), back in ${Math.ceil(pause.remainingMs / 1000)} s`,
      { retryAfterMs: pause.remainingMs },
    );
  }
}
