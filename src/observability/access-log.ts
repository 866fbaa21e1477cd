import type { Logger } from 'pino';
import type { CallObserver } from './call-summary.js';

/** Every field an access line may hold; a test holds the line to it. */
export const ACCESS_LOG_FIELDS = [
  'requestId',
  'callId',
  'alias',
  'provider',
  'deployment',
  'model',
  'stream',
  'status',
  'outcome',
  'latencyMs',
  'ttftMs',
  'inputTokens',
  'outputTokens',
  'attempts',
  'fallbackUsed',
  'attemptLog',
  'tenant',
  'error',
  'errorMessage',
  'upstreamMessage',
] as const;

/**
 * One access line per call: what an operator greps for first. A call that needed more than one
 * upstream attempt, or a fallback, also lists them: `attemptLog: ['primary:upstream_error:500', 'fallback:ok:200']`.
 *
 * Written without pino's path redaction (which walks every key of every line for its wildcard
 * paths): the line is built from known-safe fields only (`ACCESS_LOG_FIELDS`: ids, names from
 * the configuration, numbers, error codes), never headers, keys or bodies, and the two texts
 * that come from elsewhere are redacted where they are made (an upstream's message by
 * `providers/http/redact-secrets.ts` before it becomes an error message or `upstreamMessage`).
 * No redact path could match a field here anyway. The general logger keeps its redaction.
 */
export function accessLog(parent: Logger): CallObserver {
  const log = parent.child({}, { redact: [] });
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
