import type { Logger } from 'pino';
import { GatewayError } from '../core/errors.js';

export interface LifecycleOptions {
  drainDelayMs: number;
  shutdownGraceMs: number;
  log: Logger;
}

type Cut = (error: GatewayError) => void;

/**
 * The server's shutdown state machine: serving → draining (readiness 503, still serving) →
 * closing (no new requests; in-flight ones finish) → at the grace deadline, open streams get
 * a final in-band error event. The caller then flushes the ledger and exits.
 */
export class Lifecycle {
  /** False from the first signal: readiness answers 503. */
  ready = true;
  /** False once the drain delay is over: new requests get 503 `shutting_down`. */
  accepting = true;
  private readonly streams = new Set<Cut>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: LifecycleOptions) {}

  requestStarted(): void {
    this.inFlight++;
  }

  requestFinished(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  get activeRequests(): number {
    return this.inFlight;
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  trackStream(cut: Cut): () => void {
    this.streams.add(cut);
    return () => this.streams.delete(cut);
  }

  /**
   * Runs the drain: `stopAccepting` closes the listener (it resolves when every connection is
   * gone). Resolves when all requests finished or were cut at the deadline.
   */
  async drain(stopAccepting: () => Promise<void>): Promise<void> {
    const { drainDelayMs, shutdownGraceMs, log } = this.options;
    this.ready = false;
    log.info(
      { drainDelayMs, shutdownGraceMs, inFlight: this.inFlight, streams: this.streams.size },
      'shutdown: readiness is 503, draining',
    );
    if (drainDelayMs > 0) await sleep(drainDelayMs);
    this.accepting = false;
    const closed = stopAccepting();
    const idle =
      this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), shutdownGraceMs);
    });
    const first = await Promise.race([idle.then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    if (first === 'deadline') {
      log.warn(
        { inFlight: this.inFlight, streams: this.streams.size },
        'shutdown: grace period over, cutting open streams',
      );
      const error = new GatewayError(
        'shutting_down',
        'The gateway is shutting down; the stream was cut at the grace deadline. Retry the request.',
      );
      for (const cut of [...this.streams]) cut(error);
      // Give the cut streams a moment to flush their last event.
      await Promise.race([idle, sleep(1_000)]);
    }
    await Promise.race([closed, sleep(2_000)]);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
