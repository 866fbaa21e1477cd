import { GatewayError, isRequestFault } from '../../core/errors.js';
import { secretRedactor } from './redact-secrets.js';
import { parseRetryAfter } from './retry-after.js';

type Headers = Record<string, string | string[] | undefined>;

interface UpstreamErrorBody {
  message: string | undefined;
  type: string | undefined;
  code: string | undefined;
  param: string | undefined;
}

/** Reads OpenAI (`{error:{message,type,code,param}}`) and Anthropic (`{type:'error',error:{type,message}}`) error bodies. */
export function readUpstreamErrorBody(text: string): UpstreamErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    const error = (parsed as { error?: unknown }).error;
    if (error && typeof error === 'object') {
      const e = error as Record<string, unknown>;
      return {
        message: typeof e.message === 'string' ? e.message : undefined,
        type: typeof e.type === 'string' ? e.type : undefined,
        code: typeof e.code === 'string' ? e.code : undefined,
        param: typeof e.param === 'string' ? e.param : undefined,
      };
    }
    if (typeof error === 'string') return { message: error, type: undefined, code: undefined, param: undefined };
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: text.slice(0, 300) || undefined, type: undefined, code: undefined, param: undefined };
}

const CONTENT_FILTER_CODES = new Set(['content_filter', 'content_policy_violation', 'content_filtered']);

export interface UpstreamErrorOptions {
  /**
   * The error came inside a 200 stream (Anthropic's `error` event), so `status` is the one its
   * type stands for (`overloaded_error` → 529); the message says so instead of "answered 529".
   */
  inBand?: boolean;
  /** Redacts credentials from the upstream's text (the provider's `secretRedactor`); credential shapes only by default. */
  redact?: (text: string) => string;
}

const redactShapes = secretRedactor();
/** An upstream error `type` is shown only when it looks like one (`overloaded_error`), not free text. */
const ERROR_TYPE = /^[a-z_]{1,64}$/;

/**
 * The one place that decides what an upstream HTTP error means for us: 408, 429 and 5xx are
 * retryable (529, Anthropic's "overloaded", included); other 4xx are not and keep their
 * status; credential failures are ours. Anthropic's "prompt is too long" is a context-length error.
 *
 * What the client reads: for credential failures (401/403) and 5xx a fixed message naming the
 * provider and the status — the upstream's text may quote our key, and tells the client nothing
 * it can act on; for the other 4xx and 429, the upstream's message, which the client needs, with
 * credentials redacted. The redacted upstream text always rides along as `upstreamMessage`, for
 * the logs only.
 */
export function mapUpstreamHttpError(
  provider: string,
  status: number,
  bodyText: string,
  headers: Headers,
  options: UpstreamErrorOptions = {},
): GatewayError {
  const body = readUpstreamErrorBody(bodyText);
  const redact = options.redact ?? redactShapes;
  const detail = redact(body.message ?? `HTTP ${status}`);
  const type = body.type !== undefined && ERROR_TYPE.test(body.type) ? body.type : String(status);
  const prefix = options.inBand
    ? `${provider}: upstream stream error (${type})`
    : `${provider}: upstream answered ${status}`;
  const withheld = status === 401 || status === 403 || status >= 500;
  const message = !withheld
    ? `${prefix}: ${detail}`
    : status < 500
      ? `${prefix}: the upstream refused the gateway's credentials for this provider (a gateway configuration problem; details in the gateway's log)`
      : prefix;
  const common = {
    upstreamStatus: status,
    upstreamMessage: detail,
    headers: { 'x-tollgate-upstream-status': String(status) },
  };
  if (status === 429) {
    return new GatewayError('rate_limited', message, {
      ...common,
      retryAfterMs: parseRetryAfter(headers),
      wireCode: body.code ?? 'rate_limit_exceeded',
    });
  }
  if (status === 408) return new GatewayError('upstream_timeout', message, common);
  if (status >= 500) {
    // 503 and Anthropic's 529 may say when to come back, as a 429 does: retry and the router's pause honour it.
    const retryAfterMs = status === 503 || status === 529 ? parseRetryAfter(headers) : undefined;
    return new GatewayError('upstream_error', message, {
      ...common,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status === 401 || status === 403) return new GatewayError('upstream_auth_failed', message, common);
  const code = body.code ?? body.type;
  if (
    code === 'context_length_exceeded' ||
    /context length|context window|too many tokens|prompt is too long/i.test(detail)
  ) {
    return new GatewayError('context_length_exceeded', message, { ...common, param: body.param ?? 'messages' });
  }
  if (code !== undefined && CONTENT_FILTER_CODES.has(code))
    return new GatewayError('content_filtered', message, common);
  return new GatewayError('upstream_bad_request', message, {
    ...common,
    status,
    param: body.param ?? null,
    ...(body.code ? { wireCode: body.code } : {}),
  });
}

/**
 * Maps a failure while building the upstream request — translation, serialization — to a
 * GatewayError. Nothing has been sent, so whatever went wrong is the request's fault (a body too
 * deep for `JSON.stringify`, a BigInt from a library caller): a 400 `invalid_request` that the
 * breaker, retry and fallback leave alone (`isRequestFault`). A translation's own refusal (a
 * request-fault GatewayError naming the field) passes as is.
 *
 * @example mapRequestBuildError('openai', new RangeError('Maximum call stack size exceeded'))
 *   // → GatewayError invalid_request: openai: the request could not be serialized for the upstream (RangeError: Maximum call stack size exceeded)
 */
export function mapRequestBuildError(provider: string, err: unknown): GatewayError {
  if (err instanceof GatewayError && isRequestFault(err)) return err;
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new GatewayError(
    'invalid_request',
    `${provider}: the request could not be serialized for the upstream (${reason}); nothing was sent.`,
    { cause: err },
  );
}

/** Maps a transport failure (undici error, socket error) to a GatewayError. */
export function mapTransportError(provider: string, err: unknown, signal: AbortSignal): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string } | null)?.code;
  const text = err instanceof Error ? err.message : String(err);
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof GatewayError) return reason;
    return new GatewayError('client_closed', `${provider}: request aborted`, { cause: err });
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new GatewayError('upstream_timeout', `${provider}: connect timeout`, { cause: err });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new GatewayError('upstream_timeout', `${provider}: no response headers in time (first-byte timeout)`, {
        cause: err,
      });
    case 'UND_ERR_BODY_TIMEOUT':
      return new GatewayError('upstream_timeout', `${provider}: upstream stalled (no data within the stall timeout)`, {
        cause: err,
      });
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new GatewayError('upstream_unavailable', `${provider}: cannot reach upstream (${code})`, { cause: err });
    default:
      return new GatewayError('upstream_error', `${provider}: ${code ? `${code}: ` : ''}${text}`, { cause: err });
  }
}
