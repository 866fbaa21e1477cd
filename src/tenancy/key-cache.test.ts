import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../storage/database.js';
import { hashKeySecret } from './key-secret.js';
import { authRig, eventually, type AuthRig } from '../../test/kits/tenancy-test-kit.js';

describe('KeyCache', () => {
  let database: Database;
  let rig: AuthRig;
  let tenant = 0;

  before(async () => {
    database = await openDatabase({ url: 'sqlite::memory:' });
  });
  after(() => database.close());

  async function fresh(): Promise<AuthRig> {
    await rig?.close();
    rig = await authRig(database);
    return rig;
  }
  const newKey = async (r: AuthRig, extra = {}) => {
    const id = `t${++tenant}`;
    await r.store.createTenant({ id });
    return r.store.createKey({ tenant: id, ...extra });
  };

  after(() => rig?.close());

  it('reads a key once; the hot path then runs without SQL', async () => {
    const r = await fresh();
    const { key, secret } = await newKey(r);
    const hash = hashKeySecret(secret);
    assert.equal(r.cache.peek(hash), undefined);
    const loaded = await r.cache.load(hash);
    assert.equal(loaded?.record.id, key.id);
    for (let i = 0; i < 1_000; i++) assert.equal(r.cache.peek(hash)?.record.id, key.id);
    assert.equal(r.reads.reads.findByHash, 1);
  });

  it('concurrent misses for one hash share a single read', async () => {
    const r = await fresh();
    const { secret } = await newKey(r);
    const hash = hashKeySecret(secret);
    const results = await Promise.all(Array.from({ length: 20 }, () => r.cache.load(hash)));
    assert.ok(results.every((m) => m?.secret === 'current'));
    assert.equal(r.reads.reads.findByHash, 1);
  });

  it('remembers unknown hashes (negative cache) until they expire', async () => {
    const r = await fresh();
    const hash = hashKeySecret('tg-unknown');
    assert.equal(await r.cache.load(hash), null);
    for (let i = 0; i < 100; i++) assert.equal(r.cache.peek(hash), null);
    assert.equal(r.reads.reads.findByHash, 1);
    await r.clock.advance(60_001);
    assert.equal(r.cache.peek(hash), undefined, 'forgotten after the negative TTL');
  });

  it('a revocation made elsewhere reaches the cache at the next poll, not before', async () => {
    const r = await fresh();
    const { key, secret } = await newKey(r);
    const hash = hashKeySecret(secret);
    await r.cache.load(hash);
    await r.store.revokeKey(key.id);
    assert.equal(r.cache.peek(hash)?.record.revokedAt, null, 'still the cached view');
    const polls = r.reads.reads.changesSince;
    await r.clock.advance(250);
    await eventually(() => r.cache.peek(hash)?.record.revokedAt !== null);
    assert.equal(r.reads.reads.changesSince, polls + 1, 'one poll did it');
    assert.equal(r.cache.version, await r.store.currentVersion());
  });

  it('a key created after its hash was cached as unknown becomes known at the next poll', async () => {
    const r = await fresh();
    await r.store.createTenant({ id: 'late' });
    // Cache some unknown hash, then create a key: its (different) hash must be served from the poll.
    assert.equal(await r.cache.load(hashKeySecret('tg-nobody')), null);
    const { key, secret } = await r.store.createKey({ tenant: 'late' });
    await r.clock.advance(250);
    await eventually(() => r.cache.peek(hashKeySecret(secret))?.record.id === key.id);
    assert.equal(r.reads.reads.findByHash, 1, 'the new key came with the poll, not from a lookup');
  });

  it('after a rotation the old hash is the previous secret; with no grace it is no longer a secret at all', async () => {
    const r = await fresh();
    const { key, secret: first } = await newKey(r);
    await r.cache.load(hashKeySecret(first));
    const { secret: second } = await r.store.rotateKey(key.id, { graceMs: 60_000 });
    await r.cache.refresh();
    assert.equal(r.cache.peek(hashKeySecret(first))?.secret, 'previous');
    assert.equal(r.cache.peek(hashKeySecret(second))?.secret, 'current');
    const { secret: third } = await r.store.rotateKey(key.id, { graceMs: 0 });
    await r.cache.refresh();
    assert.equal(r.cache.peek(hashKeySecret(first)), undefined);
    assert.equal(r.cache.peek(hashKeySecret(second)), undefined);
    assert.equal(await r.cache.load(hashKeySecret(second)), null);
    assert.equal(r.cache.peek(hashKeySecret(third))?.secret, 'current');
  });

  it('keeps serving cached keys while the database is down, and catches up when it returns', async () => {
    const r = await fresh();
    const { key, secret } = await newKey(r);
    const hash = hashKeySecret(secret);
    await r.cache.load(hash);
    r.reads.failReads = true;
    await r.store.revokeKey(key.id);
    const failedPolls = r.reads.reads.changesSince;
    await r.clock.advance(1_000);
    await eventually(() => r.reads.reads.changesSince >= failedPolls + 3);
    assert.equal(r.cache.peek(hash)?.record.revokedAt, null, 'served as last seen');
    await assert.rejects(r.cache.load(hashKeySecret('tg-other')), /unreachable/);
    r.reads.failReads = false;
    await r.clock.advance(250);
    await eventually(() => r.cache.peek(hash)?.record.revokedAt !== null);
  });

  it('stops polling on close', async () => {
    const r = await fresh();
    await r.close();
    const polls = r.reads.reads.changesSince;
    await r.clock.advance(5_000);
    assert.equal(r.reads.reads.changesSince, polls);
    assert.equal(r.clock.pending, 0);
  });
});
