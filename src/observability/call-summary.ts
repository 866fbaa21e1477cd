import type { CallContext } from '../core/context.js';

/**
 * The one record of a finished call, built once by the settle policy and handed to every
 * observer (ledger, access log, later metrics and audit). Observers must not block.
 */
export interface CallSummary {
  /** The client's label (`x-request-id`); not unique. */
  requestId: string;
  /** The gateway's own unique id for the call. */
  callId: string;
  /** Wall-clock ms when the request arrived. */
  startedAt: number;
  alias: string;
  provider: string | null;
  deployment: string | null;
  upstreamModel: string | null;
  stream: boolean;
  status: number;
  outcome: 'ok' | 'error' | 'truncated' | 'aborted' | 'degraded';
  errorCode: string | null;
  errorMessage: string | null;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  latencyMs: number;
  ttftMs: number | null;
  attempts: number;
  fallbackUsed: boolean;
  tenant: string | null;
  keyId: string | null;
  feature: string | null;
  user: string | null;
  tags: string[];
  estimated: boolean;
  /** Integer micro-dollars; null when the call was not priced (no pricing configured). */
  costMicros: number | null;
  priceVersion: string | null;
}

export type CallObserver = (summary: CallSummary, ctx: CallContext) => void;

export function summarize(ctx: CallContext): CallSummary {
  const r = ctx.record;
  const now = ctx.clock.now();
  return {
    requestId: ctx.requestId,
    callId: ctx.callId,
    startedAt: ctx.startedAtWall,
    alias: r.alias,
    provider: r.deployment?.provider ?? null,
    deployment: r.deployment?.id ?? null,
    upstreamModel: r.deployment?.model ?? null,
    stream: r.stream,
    status: r.status,
    outcome: r.outcome,
    errorCode: r.error?.wireCode ?? null,
    errorMessage: r.error?.message ?? null,
    inputTokens: r.usage?.prompt_tokens ?? 0,
    outputTokens: r.usage?.completion_tokens ?? 0,
    cachedTokens: r.usage?.prompt_tokens_details?.cached_tokens ?? 0,
    latencyMs: round(now - ctx.startedAt),
    ttftMs: r.firstByteAt === null ? null : round(r.firstByteAt - ctx.startedAt),
    attempts: Math.max(1, r.attempts.length),
    fallbackUsed: r.fallbackUsed,
    tenant: ctx.principal.tenant,
    keyId: ctx.principal.keyId,
    feature: r.feature,
    user: r.user,
    tags: r.tags,
    estimated: r.estimated,
    costMicros: r.costMicros,
    priceVersion: r.priceVersion,
  };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
