import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Deployment, Usage } from './types.js';
import type { GatewayError } from './errors.js';

/** Who is calling. Filled by authentication; anonymous on the open embedded default. */
export interface Principal {
  readonly tenant: string | null;
  readonly keyId: string | null;
  /** Aliases this principal may use; `null` = all. */
  readonly allowedModels: readonly string[] | null;
  /** The key's name (for logs), when a virtual key authenticated the call. */
  readonly keyName?: string;
  /** The key's stored rate limits (null = none), for the rate limiter. */
  readonly rateLimits?: { readonly rpm: number | null; readonly tpm: number | null };
}

export const ANONYMOUS: Principal = Object.freeze({ tenant: null, keyId: null, allowedModels: null });

/** One upstream attempt, as recorded for the ledger and the `x-tollgate-attempts` header. */
export interface AttemptRecord {
  deployment: string;
  provider: string;
  /** `ok`, or the error code that ended the attempt. */
  outcome: string;
  status: number;
  latencyMs: number;
}

/**
 * Facts about one call, filled in as it passes through the pipeline and read once at the end
 * (ledger row, access log). Policies write here instead of passing data around.
 */
export interface CallRecord {
  alias: string;
  stream: boolean;
  deployment: Deployment | null;
  attempts: AttemptRecord[];
  /** True when the serving deployment was not the router's first choice (it failed or its circuit was open). */
  fallbackUsed: boolean;
  usage: Usage | null;
  /** Monotonic ms at which the first chunk (stream) or the whole response reached us. */
  firstByteAt: number | null;
  /**
   * How the call ended for the client: ok, error, truncated (stream cut after its first byte),
   * aborted, degraded (every deployment failed; a configured or stale answer was served).
   */
  outcome: 'ok' | 'error' | 'truncated' | 'aborted' | 'degraded';
  status: number;
  error: GatewayError | null;
  /** Attribution (tenant comes from the principal). */
  feature: string | null;
  user: string | null;
  tags: string[];
  /** True when token counts were estimated locally rather than reported by the upstream. */
  estimated: boolean;
  /** What the call cost in integer micro-dollars (priced at settle from the usage; 0 when nothing was billed). */
  costMicros: number | null;
  /** Version of the price table that priced it. */
  priceVersion: string | null;
  /** Streamed output chunks that reached the client (for truncated-stream accounting). */
  chunks: number;
  /** Streamed text and tool-call arguments, kept to count tokens locally when the upstream reports no usage. */
  outputParts: string[];
  /**
   * The budget reservation the call holds, taken by the budget policy and settled to the call's
   * cost after it (budgets/); null when no budget applies.
   */
  budgetHold: BudgetHold | null;
}

/** What a call holds against its budgets until it is settled; budgets/ puts its reservation here. */
export interface BudgetHold {
  /** Micro-dollars held (grows when a stream extends it). */
  readonly amountMicros: number;
  /** Replaces the hold by the call's actual cost. Once: the settle step clears the hold first. Never throws. */
  settle(costMicros: number): void;
}

/** Everything a policy or provider may need about the current call besides the request itself. */
export interface CallContext {
  /**
   * The request's label: the client's `x-request-id` when it sent a sane one, else a fresh id.
   * Echoed in responses and logs; never trusted to be unique (two calls may share it).
   */
  readonly requestId: string;
  /**
   * Made by the gateway for every call (`call_` + 128 random bits), never taken from the client:
   * the key for anything that must be unique per call (budget reservations, the ledger row).
   */
  readonly callId: string;
  principal: Principal;
  /**
   * True at the HTTP edge: the authenticate policy establishes `principal` from `headers`.
   * Absent/false when the caller vouched for `principal` itself (library use).
   */
  readonly authenticate?: boolean;
  /** Aborts when the client disconnects or the gateway gives up; pass it to every I/O call. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly clock: Clock;
  /** Monotonic ms at which the gateway received the request. */
  readonly startedAt: number;
  /** Wall-clock ms at which the gateway received the request. */
  readonly startedAtWall: number;
  /** Incoming request headers (lower-cased), for policies that read attribution or overrides. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly record: CallRecord;
  /** Response headers to add (e.g. `x-tollgate-deployment`); the server sends them. */
  readonly responseHeaders: Record<string, string>;
}

export function newCallRecord(alias: string, stream: boolean): CallRecord {
  return {
    alias,
    stream,
    deployment: null,
    attempts: [],
    fallbackUsed: false,
    usage: null,
    firstByteAt: null,
    outcome: 'ok',
    status: 200,
    error: null,
    feature: null,
    user: null,
    tags: [],
    estimated: false,
    costMicros: null,
    priceVersion: null,
    chunks: 0,
    outputParts: [],
    budgetHold: null,
  };
}

/** A fresh call id: `call_` + 32 hex digits (a v4 UUID without dashes). */
export function newCallId(): string {
  return `call_${randomUUID().replaceAll('-', '')}`;
}
