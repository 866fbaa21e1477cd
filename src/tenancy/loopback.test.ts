import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost } from './loopback.js';

describe('isLoopbackHost', () => {
  it('knows loopback listeners from everything else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST'])
      assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'gateway.internal', '::ffff:10.0.0.1', ''])
      assert.equal(isLoopbackHost(host), false, host);
  });
});
