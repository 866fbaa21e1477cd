import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  claimsToBeKey,
  constantTimeEquals,
  displayPrefix,
  generateKeySecret,
  hashKeySecret,
  isKeyShaped,
  newId,
  randomBase62,
} from './key-secret.js';

describe('virtual key secrets', () => {
  it('are tg- plus 43 base62 characters (256 bits), all different', () => {
    const keys = Array.from({ length: 2_000 }, generateKeySecret);
    for (const key of keys) assert.match(key, /^tg-[0-9A-Za-z]{43}$/);
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(43 * Math.log2(62) >= 256);
  });

  it('draw every base62 character about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 62);
    // Expected 1000 each; modulo bias would put the first 8 characters near 1,032 and skew the rest.
    for (const [c, n] of counts) assert.ok(n > 850 && n < 1150, `${c}: ${n}`);
  });

  it('are stored as the hex SHA-256 of the whole key, never the key', () => {
    const key = generateKeySecret();
    const hash = hashKeySecret(key);
    assert.equal(hash, createHash('sha256').update(key).digest('hex'));
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.ok(!hash.includes(key.slice(3, 12)));
    assert.notEqual(hashKeySecret(`${key}x`), hash);
  });

  it('show only tg- and 6 characters for display', () => {
    const key = generateKeySecret();
    assert.equal(displayPrefix(key), key.slice(0, 9));
    assert.equal(displayPrefix(key).length, 9);
  });

  it('are recognised by shape before any lookup', () => {
    const key = generateKeySecret();
    assert.ok(isKeyShaped(key));
    assert.ok(!isKeyShaped(key.slice(0, -1)));
    assert.ok(!isKeyShaped(`${key}a`));
    assert.ok(!isKeyShaped(key.replace('tg-', 'sk-')));
    assert.ok(!isKeyShaped(`${key.slice(0, -1)}-`));
    assert.ok(claimsToBeKey('tg-short') && !claimsToBeKey('sk-proj-abc'));
  });

  it('ids carry their kind and 16 base62 characters', () => {
    assert.match(newId('key'), /^key_[0-9A-Za-z]{16}$/);
  });
});

describe('constantTimeEquals (the admin key check)', () => {
  it('accepts the exact key only', () => {
    const admin = 'admin-0123456789abcdef';
    assert.equal(constantTimeEquals(admin, admin), true);
    assert.equal(constantTimeEquals(`${admin} `, admin), false);
    assert.equal(constantTimeEquals(admin.slice(0, -1), admin), false, 'a prefix');
    assert.equal(constantTimeEquals('', admin), false);
    assert.equal(constantTimeEquals(admin.toUpperCase(), admin), false);
  });

  it('compares values of any length without throwing (both sides are hashed to 32 bytes first)', () => {
    assert.equal(constantTimeEquals('x'.repeat(10_000), 'y'), false);
    assert.equal(constantTimeEquals('é', 'é'), true);
  });
});
