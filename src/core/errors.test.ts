import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERRORS, GatewayError, isRequestFault, toGatewayError, type ErrorCode } from './errors.js';

describe('error registry', () => {
  it('docs/errors.md lists exactly the registry, with the same status, type and retryability', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d+)\s*\|\s*`([a-z_]+)`\s*\|\s*(yes|no)\s*\|/gm)].map(
      (m) => ({
        code: m[1],
        status: Number(m[2]),
        type: m[3],
        retryable: m[4] === 'yes',
      }),
    );
    const registry = Object.entries(ERRORS).map(([code, spec]) => ({
      code,
      status: spec.status,
      type: spec.type,
      retryable: spec.retryable,
    }));
    assert.deepEqual(rows, registry);
  });

  it('renders OpenAI error JSON with param and a wire code', () => {
    const error = new GatewayError('upstream_bad_request', 'bad', {
      status: 422,
      param: 'tools[0]',
      wireCode: 'invalid_tool',
    });
    assert.equal(error.status, 422);
    assert.deepEqual(error.toJSON(), {
      error: { message: 'bad', type: 'invalid_request_error', param: 'tools[0]', code: 'invalid_tool' },
    });
  });

  it('wraps unknown throwables as internal errors and keeps the cause', () => {
    const cause = new TypeError('boom');
    const error = toGatewayError(cause);
    assert.equal(error.code, 'internal_error');
    assert.equal(error.status, 500);
    assert.equal(error.cause, cause);
  });

  it('request faults are 400-class and never retryable: the breaker, retry and fallback leave them alone', () => {
    const faults = (Object.keys(ERRORS) as ErrorCode[]).filter((code) => isRequestFault(new GatewayError(code, 'x')));
    assert.deepEqual(faults.sort(), [
      'content_filtered',
      'context_length_exceeded',
      'invalid_json',
      'invalid_request',
      'upstream_bad_request',
    ]);
    for (const code of faults) {
      assert.equal(ERRORS[code].retryable, false, code);
      assert.ok(ERRORS[code].status >= 400 && ERRORS[code].status < 500, code);
    }
  });
});
