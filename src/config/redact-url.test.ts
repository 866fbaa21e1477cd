import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrlPassword } from './redact-url.js';

void describe('redactUrlPassword', () => {
  void it('hides the password of a URL, whole, and keeps everything else', () => {
    const cases: [string, string][] = [
      ['postgres://app:s3cret@db:5432/tollgate', 'postgres://app:***@db:5432/tollgate'],
      ['postgresql://app:p@ss@word@db/x?sslmode=require', 'postgresql://app:***@db/x?sslmode=require'],
      ['redis://:hunter2@cache:6379/0', 'redis://:***@cache:6379/0'],
      ['rediss://default:tok%40en@cache:6380', 'rediss://default:***@cache:6380'],
      ['https://user:pw@proxy.example/v1', 'https://user:***@proxy.example/v1'],
    ];
    for (const [input, expected] of cases) assert.equal(redactUrlPassword(input), expected);
  });

  void it('leaves URLs without a password, and other text, as they are', () => {
    for (const text of [
      'postgres://app@db:5432/tollgate',
      'redis://cache:6379/0',
      'sqlite:./data/tollgate.db',
      'sqlite::memory:',
      'http://127.0.0.1:9100/v1',
      'http://[::1]:4000/v1',
      'a:b@c',
      '',
    ])
      assert.equal(redactUrlPassword(text), text);
  });
});
