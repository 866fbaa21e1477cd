import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERRORS, GatewayError, type ErrorCode } from '../../core/errors.js';
import { errorTypeForStatus, statusForErrorType, toAnthropicError } from './map-error.js';

describe('Anthropic error types', () => {
  it('maps the statuses Anthropic documents to its types, and back', () => {
    const documented: [number, string][] = [
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [402, 'billing_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [413, 'request_too_large'],
      [429, 'rate_limit_error'],
      [500, 'api_error'],
      [504, 'timeout_error'],
      [529, 'overloaded_error'],
    ];
    for (const [status, type] of documented) {
      assert.equal(errorTypeForStatus(status), type);
      assert.equal(statusForErrorType(type), status);
    }
    assert.equal(statusForErrorType('brand_new_error'), 500);
    assert.equal(errorTypeForStatus(422), 'invalid_request_error');
    assert.equal(errorTypeForStatus(503), 'api_error');
  });

  it('renders every registry error with a type the SDK knows and the registry status', () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const error = new GatewayError(code, `a ${code}`);
      const body = toAnthropicError(error, 'req_1');
      assert.equal(body.type, 'error');
      assert.equal(body.request_id, 'req_1');
      assert.equal(body.error.message, `a ${code}`);
      assert.equal(body.error.type, code === 'overloaded' ? 'overloaded_error' : errorTypeForStatus(error.status));
    }
    assert.equal(toAnthropicError(new GatewayError('model_not_found', 'x')).error.type, 'not_found_error');
  });
});
