import type { Logger } from 'pino';
import type { CallObserver } from './call-summary.js';

/** One access line per call: what an operator greps for first. */
export function accessLog(log: Logger): CallObserver {
  return (s) => {
    const level = s.status >= 500 ? 'error' : s.status >= 400 || s.outcome !== 'ok' ? 'warn' : 'info';
    if (!log.isLevelEnabled(level)) return;
    log[level](
      {
        requestId: s.requestId,
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
        tenant: s.tenant ?? undefined,
        ...(s.errorCode ? { error: s.errorCode, errorMessage: s.errorMessage } : {}),
      },
      'request',
    );
  };
}
