/**
 * What an upstream says when it fails: OpenAI's error object for a status, and the headers that
 * go with an injected error. The HTTP server sends these; the in-process provider feeds them to
 * the same mapping the openai provider uses, so both forms fail alike.
 */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const KNOWN: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Bad request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
  408: { type: 'server_error', code: null, message: 'Request timed out.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
  502: { type: 'server_error', code: null, message: 'Bad gateway.' },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later.' },
  504: { type: 'server_error', code: null, message: 'Gateway timeout.' },
  529: { type: 'overloaded_error', code: 'overloaded', message: 'Overloaded.' },
};

/**
 * OpenAI's error JSON for an injected `status`, marked as injected so nobody mistakes it for a
 * real outage.
 *
 * @example injectedErrorBody(429).error.code // → 'rate_limit_exceeded'
 */
export function injectedErrorBody(status: number): OpenAIErrorBody {
  const known = KNOWN[status] ?? {
    type: status >= 500 ? 'server_error' : 'invalid_request_error',
    code: null,
    message: `HTTP ${status}.`,
  };
  return {
    error: {
      message: `${known.message} (injected by the tollgate mock)`,
      type: known.type,
      param: null,
      code: known.code,
    },
  };
}

/** `retry-after` in whole seconds (rounded up) and `retry-after-ms`, as OpenAI sends them. */
export function retryAfterHeaders(retryAfterS: number | undefined): Record<string, string> {
  if (retryAfterS === undefined) return {};
  return { 'retry-after': String(Math.ceil(retryAfterS)), 'retry-after-ms': String(Math.round(retryAfterS * 1000)) };
}

/** The mock's own 400 for a request it cannot answer. */
export function invalidRequestBody(message: string, param: string | null): OpenAIErrorBody {
  return { error: { message, type: 'invalid_request_error', param, code: null } };
}
