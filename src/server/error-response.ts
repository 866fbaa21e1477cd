import { STATUS_CODES, type ServerResponse } from 'node:http';
import { GatewayError, toGatewayError } from '../core/errors.js';

/** Maps errors raised by fastify itself (body parsing, limits, routing) into the registry. */
export function fromFrameworkError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(
        'payload_too_large',
        `The request body is larger than the limit of this gateway: ${e.message ?? ''}`.trim(),
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError(
        'unsupported_media_type',
        'Unsupported Content-Type: send the body as JSON with `Content-Type: application/json`.',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_json', 'The request body is empty; expected a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('invalid_request', 'The Content-Length header does not match the body.');
  }
  if (e.statusCode === 413) return new GatewayError('payload_too_large', 'The request body is too large.');
  if (e.statusCode === 404) return new GatewayError('not_found', e.message ?? 'Not found');
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new GatewayError('invalid_request', e.message ?? 'Bad request', { status: e.statusCode });
  }
  return toGatewayError(err);
}

/**
 * Maps what Node's HTTP parser reports on a connection (the server's 'clientError': a request
 * head or body too slow, headers too large, a method or framing it cannot parse) into the registry.
 */
export function fromClientError(err: unknown): GatewayError {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('request_timeout', 'The request was not received in time; the connection is closed.');
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('headers_too_large', 'The request headers are too large.');
    case 'HPE_INVALID_METHOD':
      return new GatewayError('method_not_allowed', 'Unknown HTTP method.');
    default:
      return new GatewayError('invalid_request', 'Malformed HTTP request.');
  }
}

/**
 * A whole HTTP/1.1 response carrying `error` in OpenAI's JSON, for the places where Node hands
 * us a bare socket instead of a response (`clientError`): always `connection: close`.
 */
export function rawErrorResponse(error: GatewayError): string {
  const body = JSON.stringify(error.toJSON());
  const headers: Record<string, string> = {
    ...errorHeaders(error),
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n${head}\r\n${body}`;
}

/** Headers that go with an error: retry hints the official SDKs obey, plus the error's own. */
export function errorHeaders(error: GatewayError): Record<string, string> {
  const headers: Record<string, string> = { ...error.headers };
  if (error.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.ceil(error.retryAfterMs));
  }
  if (!error.retryable) headers['x-should-retry'] = 'false';
  return headers;
}

/**
 * Writes an error answer on a raw response (used where fastify's reply is gone: hijacked
 * streams): OpenAI's error JSON unless the route's wire format gives another `payload`.
 */
export function writeRawError(
  res: ServerResponse,
  error: GatewayError,
  headers: Record<string, string>,
  payload: unknown = error.toJSON(),
): void {
  const body = JSON.stringify(payload);
  res.writeHead(error.status, {
    ...headers,
    ...errorHeaders(error),
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
