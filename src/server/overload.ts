import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { GatewayError } from '../core/errors.js';

export interface OverloadOptions {
  /** Calls in flight at most; 0: no cap. */
  maxInFlight: number;
  /** Mean event-loop delay (ms) over the last sample above which calls are shed; 0: not checked. */
  maxEventLoopDelayMs: number;
  /** The sample window of the event-loop delay. */
  eventLoopSampleMs: number;
}

export type ShedReason = 'inFlight' | 'eventLoopDelay';

/** What the admin-only `/health` detail shows. */
export interface OverloadStatus {
  inFlight: number;
  maxInFlight: number;
  /** Mean delay over the last sample window, or null when the check is off. */
  eventLoopDelayMs: number | null;
  maxEventLoopDelayMs: number;
  /** Calls refused with 503 `overloaded` since start, by cause. */
  shed: { total: number } & Record<ShedReason, number>;
}

/**
 * Routes never shed and never counted: the probes (an orchestrator must see a loaded replica
 * as alive, or it restarts the one process still serving), metrics scrapes (a graph with a hole
 * exactly when the box is overloaded is no graph), and the admin API (the operator's way out
 * of an overload — revoke the key or disable the tenant that floods — must keep working; it is
 * low-volume and takes the admin key). Prefixes of the raw URL: fastify's router does not
 * resolve `..` or percent-escapes, so a URL starting with one of these can only reach these
 * routes or a 404.
 */
const EXEMPT = ['/health', '/metrics', '/admin/'] as const;

export function isExempt(url: string): boolean {
  for (const prefix of EXEMPT) if (url.startsWith(prefix)) return true;
  return false;
}

/** Logs shed calls at most once a second: the first at once, then the count since the last line. */
const LOG_EVERY_MS = 1_000;

/** A refused request with a declared body up to this size is answered once its body arrived. */
const SMALL_BODY_BYTES = 64 * 1024;

/**
 * Runs `answer` once the request's body has arrived (read and dropped, never buffered) when it
 * is declared and small, at once otherwise. Node hands us the head before it parses the body
 * that came with it, and an answer sent before the body ends closes the connection (the edge's
 * lingering close, server/linger.ts): a refused client would then reconnect for its retry — a
 * TCP (and TLS) handshake per refusal, when the gateway is least able to afford it. A small body
 * is usually in the same packet as the head, so waiting for it costs nothing and keeps the
 * connection. A large or chunked body, or one the client holds back for `100-continue`, still
 * gets its answer at once, and the lingering close.
 */
function afterSmallBody(raw: IncomingMessage, answer: () => void): void {
  const declared = Number(raw.headers['content-length']);
  // `Expect: 100-continue`: the client sends nothing more until it hears from us, so answer now.
  if (raw.complete || raw.headers.expect !== undefined || !(declared > 0 && declared <= SMALL_BODY_BYTES))
    return answer();
  let answered = false;
  const once = (): void => {
    if (answered) return;
    answered = true;
    answer();
  };
  raw.once('end', once);
  raw.once('close', once);
  raw.resume();
}

/**
 * The overload gate (issue 8 item 10): above `maxInFlight` calls in flight, or while the mean
 * event-loop delay of the last sample exceeds `maxEventLoopDelayMs`, a new call gets 503
 * `overloaded` with `retry-after` on its head — before authentication, its body never parsed
 * (a small one is let in and dropped, so the connection stays open: `afterSmallBody`) — and is
 * never queued. The event-loop check is `@fastify/under-pressure` (its
 * `pressureHandler` raises our `GatewayError`, so the route's one error renderer answers); the
 * in-flight cap is a counter, which that plugin does not have. A call is in flight from its head
 * until its response closes (finished, or the client went away), streams included. Shed calls
 * get no ledger row (docs/architecture.md) but are counted (`status()`, shown in the admin
 * `/health`) and logged at most once a second.
 *
 * Register it after the lifecycle gate and before authentication: hooks run in that order.
 */
export class OverloadGate {
  private inFlight = 0;
  private readonly shed: { total: number } & Record<ShedReason, number> = { total: 0, inFlight: 0, eventLoopDelay: 0 };
  private unlogged = 0;
  private logTimer: NodeJS.Timeout | null = null;
  private app: FastifyInstance | null = null;
  private readonly release = (): void => {
    this.inFlight--;
  };

  constructor(
    private readonly options: OverloadOptions,
    private readonly log: Logger,
  ) {}

  register(app: FastifyInstance): void {
    const { maxInFlight, maxEventLoopDelayMs, eventLoopSampleMs } = this.options;
    if (maxEventLoopDelayMs > 0) {
      this.app = app;
      void app.register(underPressure, {
        maxEventLoopDelay: maxEventLoopDelayMs,
        sampleInterval: eventLoopSampleMs,
        // Called only while the delay is over the limit; nothing returned lets the request through.
        pressureHandler: (req: FastifyRequest) => {
          if (isExempt(req.url)) return undefined;
          const error = this.refuse('eventLoopDelay');
          return new Promise<void>((_resolve, reject) => afterSmallBody(req.raw, () => reject(error)));
        },
      });
    }
    if (maxInFlight > 0) {
      app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
        if (isExempt(req.url)) return done();
        if (this.inFlight >= maxInFlight) {
          const error = this.refuse('inFlight');
          return afterSmallBody(req.raw, () => done(error));
        }
        this.inFlight++;
        reply.raw.on('close', this.release);
        done();
      });
    }
    app.addHook('onClose', async () => {
      if (this.logTimer) clearTimeout(this.logTimer);
      this.logTimer = null;
    });
  }

  status(): OverloadStatus {
    return {
      inFlight: this.inFlight,
      maxInFlight: this.options.maxInFlight,
      eventLoopDelayMs: this.app ? round(this.app.memoryUsage().eventLoopDelay) : null,
      maxEventLoopDelayMs: this.options.maxEventLoopDelayMs,
      shed: { ...this.shed },
    };
  }

  private refuse(reason: ShedReason): GatewayError {
    this.shed.total++;
    this.shed[reason]++;
    this.unlogged++;
    if (this.logTimer === null) this.flushLog();
    const limit =
      reason === 'inFlight'
        ? `${this.options.maxInFlight} calls in flight`
        : `an event-loop delay of ${this.options.maxEventLoopDelayMs} ms`;
    // Spread the retries over 0.5–1.5 s so that refused clients do not come back in step.
    return new GatewayError('overloaded', `The gateway is overloaded (at ${limit}); retry shortly.`, {
      retryAfterMs: 500 + Math.floor(Math.random() * 1000),
    });
  }

  private flushLog(): void {
    if (this.unlogged === 0) {
      this.logTimer = null;
      return;
    }
    const { inFlight, eventLoopDelayMs, shed } = this.status();
    this.log.warn({ shed: this.unlogged, shedTotal: shed, inFlight, eventLoopDelayMs }, 'overload: calls shed');
    this.unlogged = 0;
    this.logTimer = setTimeout(() => this.flushLog(), LOG_EVERY_MS);
    this.logTimer.unref();
  }
}

const round = (ms: number): number => (Number.isFinite(ms) ? Math.round(ms * 10) / 10 : ms);

/** Wires the gate into the app (see `OverloadGate`); returns it for the `/health` detail. */
export function registerOverloadGate(app: FastifyInstance, options: OverloadOptions, log: Logger): OverloadGate {
  const gate = new OverloadGate(options, log);
  gate.register(app);
  return gate;
}
