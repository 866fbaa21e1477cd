import type { CallObserver } from '../observability/call-summary.js';
import type { Ledger } from './ledger.js';

/** Turns every finished call into one ledger row (buffered; written off the request path). */
export function ledgerObserver(ledger: Ledger): CallObserver {
  return (s) => {
    ledger.record({
      requestId: s.requestId,
      callId: s.callId,
      createdAt: s.startedAt,
      alias: s.alias,
      provider: s.provider,
      deployment: s.deployment,
      upstreamModel: s.upstreamModel,
      status: s.status,
      outcome: s.outcome,
      errorCode: s.errorCode,
      stream: s.stream,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      cachedTokens: s.cachedTokens,
      latencyMs: s.latencyMs,
      ttftMs: s.ttftMs,
      attempts: s.attempts,
      fallbackUsed: s.fallbackUsed,
      tenant: s.tenant,
      feature: s.feature,
      keyId: s.keyId,
      endUser: s.user,
      tags: s.tags,
      estimated: s.estimated,
      costMicros: s.costMicros,
      priceVersion: s.priceVersion,
    });
  };
}
