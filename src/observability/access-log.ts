import type { Logger } from 'pino';
import type { CallObserver } from './call-summary.js';

/**
 * One access line per call: what an operator greps for first. A call that needed more than one
 * upstream attempt, or a fallback, also lists them: `attemptLog: ['primary:upstream_error:500', 'fallback:ok:200']`.
 */
export function accessLog(log: Logger): CallObserver {
  return (s, ctx) => {
    const level = s.status >= 500 ? 'error' : s.status >= 400 || s.outcome !== 'ok' ? 'warn' : 'info';
    if (!log.isLevelEnabled(level)) return;
    log[level](
      {
        requestId: s.requestId,
        callId: s.callId,
        alias: s.alias,
        provider: s.provider,
        deployment: s.deployment,
        model: s.upstreamModel,
        stream: s.stream,
        status: s.status,
        outcome: s.outcome,
        latencyMs: s.latencyMs,
        ttftMs: s.ttftMs,
        inputTokens: s.inputTokens,
        outputTokens: s.outputTokens,
        attempts: s.attempts,
        ...(s.attempts > 1 || s.fallbackUsed
          ? {
              fallbackUsed: s.fallbackUsed,
              attemptLog: ctx.record.attempts.map((a) => `${a.deployment}:${a.outcome}:${a.status}`),
            }
          : {}),
        tenant: s.tenant ?? undefined,
        ...(s.errorCode ? { error: s.errorCode, errorMessage: s.errorMessage } : {}),
        // The upstream's own words (credentials redacted), which the client may not have been shown.
        ...(ctx.record.error?.upstreamMessage ? { upstreamMessage: ctx.record.error.upstreamMessage } : {}),
      },
      'request',
    );
  };
}
