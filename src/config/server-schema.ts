import { z } from 'zod';
import { DEFAULT_REQUEST_LIMITS } from '../core/request-limits.js';
import { MAX_WORKERS } from './check-workers.js';

/* `server` and `requests`: the HTTP edge (read by server/, assembled by config/schema.ts). */

const durationMs = z.number().int().nonnegative();

/** `server.workers`: a count, or `auto` (also accepted as a numeric string, as `--workers` passes it). */
const workersSchema = z.union([z.literal('auto'), z.coerce.number<number | string>().int().min(1).max(MAX_WORKERS)]);

export const serverSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(4000),
    /** Largest request body accepted (413 beyond). */
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /** After SIGTERM, keep serving (readiness already 503) this long so load balancers notice. */
    drainDelayMs: durationMs.default(0),
    /** After the drain delay, how long in-flight requests and streams may take to finish. */
    shutdownGraceMs: durationMs.default(25_000),
    /** HTTP keep-alive idle timeout for client connections. */
    keepAliveTimeoutMs: durationMs.default(65_000),
    /** The whole request head must arrive within this (408 otherwise). */
    headersTimeoutMs: z.number().int().positive().default(10_000),
    /** The whole request, head and body, must arrive within this (408 otherwise); an answer being produced is not limited by it. */
    requestTimeoutMs: z.number().int().positive().default(60_000),
    /** A connection on which the client sends nothing for this long while we wait for it (head or body) is closed. */
    idleTimeoutMs: z.number().int().positive().default(30_000),
    /** Open client connections at most; the listener drops new ones beyond it. */
    maxConnections: z.number().int().positive().default(10_000),
    /** After an answer sent before the body was read (401, 413, …), read and discard at most this much of the body before closing. */
    lingerMaxBytes: z
      .number()
      .int()
      .nonnegative()
      .default(64 * 1024 * 1024),
    /** … for at most this long. */
    lingerTimeoutMs: durationMs.default(10_000),
    /** Each readiness check (storage, Redis) must answer within this, or `/health/ready` reports it `timeout`. */
    readinessTimeoutMs: z.number().int().positive().default(1_000),
    /** Calls in flight at most (every route but /health*, /metrics, /admin/); beyond it 503 `overloaded` at once. 0: no cap. */
    maxInFlight: z.number().int().nonnegative().default(512),
    /** Mean event-loop delay over the last sample (ms) above which new calls get 503 `overloaded`. 0: not checked. */
    maxEventLoopDelayMs: z.number().int().nonnegative().default(1_000),
    /** How often the event-loop delay is sampled (the mean over this window is what `maxEventLoopDelayMs` compares). */
    eventLoopSampleMs: z.number().int().min(10).max(60_000).default(500),
    /** Worker processes sharing the port (`auto`: one per available core); more than one needs shared state (config/check-workers.ts). */
    workers: workersSchema.default(1),
  })
  .strict()
  .refine((server) => server.headersTimeoutMs <= server.requestTimeoutMs, {
    message: 'headersTimeoutMs must not exceed requestTimeoutMs',
    path: ['headersTimeoutMs'],
  });

/** Bounds on request bodies beyond the byte limit, for every route and library call. */
export const requestsSchema = z
  .object({
    /** Deepest nesting of objects and arrays in a body (the body itself is level 1); deeper → 400. */
    maxDepth: z.number().int().min(8).default(DEFAULT_REQUEST_LIMITS.maxDepth),
    /** Most JSON values in one body (objects, arrays and scalars); more → 400. */
    maxNodes: z.number().int().positive().default(DEFAULT_REQUEST_LIMITS.maxNodes),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverSchema>;
