/**
 * One error family for the whole gateway. Every failure that can reach a client is a
 * `GatewayError` with a code from `ERRORS`; `server/error-response.ts` is the only place that
 * renders it (OpenAI's `{error:{message,type,param,code}}`). `docs/errors.md` lists this
 * registry and a test keeps the two in step.
 */

export interface ErrorSpec {
  /** HTTP status sent to the client. */
  readonly status: number;
  /** OpenAI error `type`. */
  readonly type: string;
  /** Whether repeating the same request may succeed (drives retries and `x-should-retry`). */
  readonly retryable: boolean;
  /** One line for docs/errors.md. */
  readonly description: string;
}

export const ERRORS = {
  invalid_json: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The request body is not valid JSON; the message names the position.',
  },
  invalid_request: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description:
      'The request violates the schema or the depth/size limits (`requests.maxDepth`, `requests.maxNodes`), or could not be serialized for the upstream (nothing was sent); `param` names the field.',
  },
  unauthorized: {
    status: 401,
    type: 'authentication_error',
    retryable: false,
    description:
      'Missing, unknown, expired or revoked API key (or a rotated key past its grace); sent with code `invalid_api_key`, as OpenAI does.',
  },
  forbidden: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    description: 'The key is valid but may not use this model or route.',
  },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    retryable: false,
    description: 'No model alias of that name is configured.',
  },
  not_found: {
    status: 404,
    type: 'invalid_request_error',
    retryable: false,
    description: 'No such route.',
  },
  method_not_allowed: {
    status: 405,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The route exists but not with this HTTP method.',
  },
  conflict: {
    status: 409,
    type: 'invalid_request_error',
    retryable: false,
    description:
      'Admin API: the object already exists (a tenant id) or is in a state that forbids the change (rotating a revoked key).',
  },
  payload_too_large: {
    status: 413,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The request body exceeds `server.bodyLimitBytes`.',
  },
  unsupported_media_type: {
    status: 415,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The request body is not `application/json`.',
  },
  request_timeout: {
    status: 408,
    type: 'invalid_request_error',
    retryable: true,
    description:
      'The request (head and body) did not arrive within `server.headersTimeoutMs` / `server.requestTimeoutMs`; the connection is closed.',
  },
  expectation_failed: {
    status: 417,
    type: 'invalid_request_error',
    retryable: false,
    description: 'An `Expect` header other than `100-continue`.',
  },
  headers_too_large: {
    status: 431,
    type: 'invalid_request_error',
    retryable: false,
    description: "The request's headers exceed Node's limit (16 KiB by default).",
  },
  rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    retryable: true,
    description: "A rate limit was hit (the upstream's or one of ours); `retry-after` says when to retry.",
  },
  budget_exceeded: {
    status: 429,
    type: 'insufficient_quota',
    retryable: false,
    description: 'A hard budget would be exceeded; sent with `x-should-retry: false`.',
  },
  budget_unavailable: {
    status: 503,
    type: 'api_error',
    retryable: true,
    description:
      'A budget applies but its counter store (Redis) cannot be reached and the budget fails closed (`failOpen: false`, the default).',
  },
  upstream_bad_request: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description:
      'The upstream rejected the request (4xx); its status, code and message are kept, credentials in the message redacted.',
  },
  context_length_exceeded: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description: "The prompt plus `max_tokens` exceeds the model's context window.",
  },
  content_filtered: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The upstream refused the content; never retried or sent to a fallback.',
  },
  upstream_error: {
    status: 502,
    type: 'api_error',
    retryable: true,
    description:
      "The upstream failed (5xx, reset, malformed reply); its status is kept in the message and `x-tollgate-upstream-status`, its own text only in the gateway's log (redacted).",
  },
  upstream_auth_failed: {
    status: 502,
    type: 'api_error',
    retryable: false,
    description:
      "The upstream refused the gateway's own credentials (401/403): a configuration problem, not the client's; a fixed message, the upstream's text only in the gateway's log (redacted).",
  },
  upstream_unavailable: {
    status: 503,
    type: 'api_error',
    retryable: true,
    description: 'The upstream could not be reached (connection refused, DNS) or its circuit is open.',
  },
  no_deployment_available: {
    status: 503,
    type: 'api_error',
    retryable: true,
    description:
      "Every deployment of the alias failed or has an open circuit; the message names each attempt's cause and `retry-after` when one may be back.",
  },
  upstream_timeout: {
    status: 504,
    type: 'timeout_error',
    retryable: true,
    description: 'The upstream did not answer (or stalled) within the configured timeout.',
  },
  stream_interrupted: {
    status: 502,
    type: 'api_error',
    retryable: false,
    description:
      'An upstream stream failed after its first chunk reached the client: sent in-band as the last SSE event.',
  },
  client_closed: {
    status: 499,
    type: 'api_error',
    retryable: false,
    description: 'The client disconnected before the response was complete (ledger only; never sent).',
  },
  auth_unavailable: {
    status: 503,
    type: 'api_error',
    retryable: true,
    description:
      'The key store could not be read to check an API key not yet in the cache (database down); keys already cached keep working.',
  },
  shutting_down: {
    status: 503,
    type: 'api_error',
    retryable: true,
    description: 'The gateway is draining for shutdown; retry on another replica.',
  },
  overloaded: {
    status: 503,
    type: 'api_error',
    retryable: true,
    description:
      'At the limit of calls in flight (`server.maxInFlight`) or of event-loop delay (`server.maxEventLoopDelayMs`): refused at once, the body never parsed, with `retry-after`; no ledger row.',
  },
  internal_error: {
    status: 500,
    type: 'api_error',
    retryable: false,
    description: 'A bug in the gateway; the request id is in the logs.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export interface GatewayErrorOptions {
  /** The request field at fault (`messages[0].content`). */
  param?: string | null;
  /** Status the upstream answered, when the error came from there. */
  upstreamStatus?: number;
  /** The upstream's own error text, credentials redacted: for the logs, never sent to the client. */
  upstreamMessage?: string;
  /** OpenAI error `code` to send instead of the registry code (e.g. the upstream's own code). */
  wireCode?: string;
  /** Overrides the registry status (e.g. an upstream 4xx kept as is). */
  status?: number;
  /** When the client may retry, from `retry-after` or our own limits. */
  retryAfterMs?: number;
  /** Extra response headers (rate-limit headers and the like). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly retryable: boolean;
  readonly param: string | null;
  readonly upstreamStatus: number | undefined;
  readonly upstreamMessage: string | undefined;
  readonly wireCode: string;
  readonly retryAfterMs: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: ErrorSpec = ERRORS[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? spec.status;
    this.type = spec.type;
    this.retryable = spec.retryable;
    this.param = options.param ?? null;
    this.upstreamStatus = options.upstreamStatus;
    this.upstreamMessage = options.upstreamMessage;
    this.wireCode = options.wireCode ?? code;
    this.retryAfterMs = options.retryAfterMs;
    this.headers = options.headers;
  }

  /** OpenAI's error object, as sent in a JSON body or an in-band SSE event. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.wireCode } };
  }
}

/** Wraps anything thrown into a GatewayError, keeping the original as `cause`. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('internal_error', `internal error: ${message}`, { cause: err });
}

/**
 * Failures caused by the request itself: the schema, our own refusal to send it (it could not be
 * serialized or translated), or an upstream 4xx about its content. The one rule for them: they
 * never count against a deployment's health (breaker), are never retried, and never fall back to
 * another deployment unless `fallbackOn` names the code (context length → a larger context
 * window). All of them are 400-class and not retryable (a test holds the registry to that).
 */
const REQUEST_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_json',
  'invalid_request',
  'upstream_bad_request',
  'context_length_exceeded',
  'content_filtered',
]);

/** Whether the request itself caused the failure (see `REQUEST_FAULTS`). */
export function isRequestFault(error: GatewayError): boolean {
  return REQUEST_FAULTS.has(error.code);
}

/** Whether a failure may be repeated against the same or another deployment. */
export function isRetryable(err: unknown): boolean {
  return err instanceof GatewayError && err.retryable;
}
