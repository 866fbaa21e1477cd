import type { GatewayError } from '../../core/errors.js';
import type { AnthropicErrorBody, AnthropicErrorType } from './wire.js';

/**
 * Anthropic's error `type` for an HTTP status, as Anthropic documents its statuses (and the
 * official SDK maps them to error classes). Statuses Anthropic does not use take the type of
 * their class: other 4xx `invalid_request_error`, other 5xx `api_error`.
 *
 * @example errorTypeForStatus(529) // → 'overloaded_error'
 */
export function errorTypeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 408:
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * The HTTP status an Anthropic error `type` stands for: an in-band `error` event carries a type
 * but no status, and the shared classifier works on statuses. Unknown types count as 500.
 *
 * @example statusForErrorType('overloaded_error') // → 529
 */
export function statusForErrorType(type: string | undefined): number {
  return (type !== undefined ? STATUS_BY_TYPE[type] : undefined) ?? 500;
}

/**
 * A GatewayError as Anthropic's error body (its HTTP status is the error's own), for the
 * `/v1/messages` route: JSON bodies and the in-band `error` event alike. The type follows the
 * status, except that the gateway shedding load (503 `overloaded`) says so as Anthropic does,
 * `overloaded_error` (its SDKs retry a 503 either way).
 *
 * @example toAnthropicError(new GatewayError('model_not_found', 'no such model'), 'req_1')
 *   // → { type: 'error', error: { type: 'not_found_error', message: 'no such model' }, request_id: 'req_1' }
 */
export function toAnthropicError(error: GatewayError, requestId: string | null = null): AnthropicErrorBody {
  return {
    type: 'error',
    error: {
      type: error.code === 'overloaded' ? 'overloaded_error' : errorTypeForStatus(error.status),
      message: error.message,
    },
    request_id: requestId,
  };
}
