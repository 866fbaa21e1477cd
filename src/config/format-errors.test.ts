import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, fromZodIssues } from './format-errors.js';

describe('ConfigError', () => {
  it('lists every issue as "path: reason", one per line', () => {
    const err = new ConfigError(
      [
        { path: 'server.port', message: 'expected number' },
        { path: '', message: 'tollgate.yaml: bad indentation' },
      ],
      'tollgate.yaml',
    );
    assert.equal(
      err.message,
      'invalid configuration (tollgate.yaml), 2 problems:\n  server.port: expected number\n  tollgate.yaml: bad indentation',
    );
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.issues.length, 2);
  });
});

describe('fromZodIssues', () => {
  it('gives one issue per unknown key and names the allowed discriminator values', () => {
    const schema = z.object({
      a: z.object({ b: z.number() }).strict(),
      p: z.discriminatedUnion('type', [z.object({ type: z.literal('x') }), z.object({ type: z.literal('y') })]),
    });
    const result = schema.safeParse({ a: { b: 1, c: 2, d: 3 }, p: { type: 'z' } });
    assert.ok(!result.success);
    assert.deepEqual(fromZodIssues(result.error.issues), [
      { path: 'a.c', message: 'unknown setting' },
      { path: 'a.d', message: 'unknown setting' },
      { path: 'p.type', message: 'must be one of: x, y' },
    ]);
  });
});
