import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ANONYMOUS } from '../core/context.js';
import { GatewayError } from '../core/errors.js';
import { openDatabase, type Database } from '../storage/database.js';
import { authorizeModel } from './authenticator.js';
import { authRig, bearer, type AuthRig } from '../../test/kits/tenancy-test-kit.js';

const rejectsWith = async (promise: Promise<unknown>, status: number, message: RegExp): Promise<void> => {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.status, status);
    if (status === 401) assert.equal(err.toJSON().error.code, 'invalid_api_key');
    assert.match(err.message, message);
    return true;
  });
};

describe('Authenticator', () => {
  let database: Database;
  const rigs: AuthRig[] = [];
  const rig = async (options: Parameters<typeof authRig>[1] = {}): Promise<AuthRig> => {
    const r = await authRig(database, options);
    rigs.push(r);
    return r;
  };

  before(async () => {
    database = await openDatabase({ url: 'sqlite::memory:' });
  });
  after(async () => {
    await Promise.all(rigs.map((r) => r.close()));
    await database.close();
  });

  it('auto mode on loopback with no key yet: open (anonymous), but a tg- key is still checked', async () => {
    const r = await rig({ mode: 'auto', loopback: true });
    assert.equal(r.authenticator.keysRequired, false);
    assert.equal(await r.authenticator.authenticate({}), ANONYMOUS);
    assert.equal(await r.authenticator.authenticate(bearer('unused-on-the-open-default')), ANONYMOUS);
    await rejectsWith(r.authenticator.authenticate(bearer('tg-not-a-real-key')), 401, /Incorrect API key/);
  });

  it('auto mode requires keys once the first one exists', async () => {
    const r = await rig({ mode: 'auto', loopback: true });
    await r.store.createTenant({ id: 'first' });
    const { secret } = await r.store.createKey({ tenant: 'first' });
    await r.cache.refresh();
    assert.equal(r.authenticator.keysRequired, true);
    await rejectsWith(r.authenticator.authenticate({}), 401, /didn't provide an API key/);
    assert.equal((await r.authenticator.authenticate(bearer(secret))).tenant, 'first');
  });

  it('auto mode on a non-loopback listener requires keys even before any exists', async () => {
    const empty = await openDatabase({ url: 'sqlite::memory:' });
    try {
      const r = await authRig(empty, { mode: 'auto', loopback: false });
      rigs.push(r);
      assert.equal(r.cache.version, 0);
      assert.equal(r.authenticator.keysRequired, true);
      await rejectsWith(r.authenticator.authenticate(bearer('anything')), 401, /Incorrect API key/);
    } finally {
      await empty.close();
    }
  });

  it('keys mode: the principal carries tenant, key id, allowed models and limits', async () => {
    const r = await rig();
    await r.store.createTenant({ id: 'acme' });
    const { key, secret } = await r.store.createKey({
      tenant: 'acme',
      name: 'backend',
      allowedModels: ['fast'],
      rpmLimit: 60,
    });
    const principal = await r.authenticator.authenticate({ 'x-api-key': secret });
    assert.deepEqual(principal, {
      tenant: 'acme',
      keyId: key.id,
      allowedModels: ['fast'],
      keyName: 'backend',
      rateLimits: { rpm: 60, tpm: null },
    });
  });

  it('refuses malformed keys without touching the database', async () => {
    const r = await rig();
    for (const credential of ['sk-proj-123', 'tg-short', `tg-${'a'.repeat(44)}`])
      await rejectsWith(r.authenticator.authenticate(bearer(credential)), 401, /Incorrect API key/);
    assert.equal(r.reads.reads.findByHash, 0);
  });

  it('revoked, expired, and rotated-past-grace keys get 401 saying which', async () => {
    const r = await rig();
    await r.store.createTenant({ id: 'states' });
    const revoked = await r.store.createKey({ tenant: 'states' });
    await r.store.revokeKey(revoked.key.id);
    await rejectsWith(r.authenticator.authenticate(bearer(revoked.secret)), 401, /was revoked/);

    const expiring = await r.store.createKey({ tenant: 'states', expiresAt: r.clock.wallNow() + 1_000 });
    assert.equal((await r.authenticator.authenticate(bearer(expiring.secret))).keyId, expiring.key.id);
    await r.clock.advance(1_000);
    await rejectsWith(r.authenticator.authenticate(bearer(expiring.secret)), 401, /expired at 2026-01-01T00:00:01/);

    const rotating = await r.store.createKey({ tenant: 'states' });
    const rotated = await r.store.rotateKey(rotating.key.id, { graceMs: 5_000 });
    await r.cache.refresh();
    assert.equal((await r.authenticator.authenticate(bearer(rotating.secret))).keyId, rotating.key.id);
    assert.equal((await r.authenticator.authenticate(bearer(rotated.secret))).keyId, rotating.key.id);
    await r.clock.advance(5_000);
    await rejectsWith(r.authenticator.authenticate(bearer(rotating.secret)), 401, /rotated and its grace period ended/);
    assert.equal((await r.authenticator.authenticate(bearer(rotated.secret))).keyId, rotating.key.id);
  });

  it('open mode: no key is anonymous; a revoked tg- key is still refused', async () => {
    const r = await rig({ mode: 'open' });
    await r.store.createTenant({ id: 'open' });
    const { key, secret } = await r.store.createKey({ tenant: 'open' });
    assert.equal(await r.authenticator.authenticate({}), ANONYMOUS);
    assert.equal((await r.authenticator.authenticate(bearer(secret))).keyId, key.id);
    await r.store.revokeKey(key.id);
    await r.cache.refresh();
    await rejectsWith(r.authenticator.authenticate(bearer(secret)), 401, /revoked/);
  });

  it('tells a caller who sends the admin key to /v1 what to use instead', async () => {
    const r = await rig({ adminKey: 'admin-key-xyz' });
    await rejectsWith(r.authenticator.authenticate(bearer('admin-key-xyz')), 401, /admin key only opens \/admin\/v1/);
  });

  it('database down: an uncached key gets 503 auth_unavailable, a cached key keeps working', async () => {
    const r = await rig();
    await r.store.createTenant({ id: 'down' });
    const cached = await r.store.createKey({ tenant: 'down' });
    const uncached = await r.store.createKey({ tenant: 'down' });
    await r.authenticator.authenticate(bearer(cached.secret));
    r.reads.failReads = true;
    assert.equal((await r.authenticator.authenticate(bearer(cached.secret))).keyId, cached.key.id);
    await assert.rejects(r.authenticator.authenticate(bearer(uncached.secret)), (err: GatewayError) => {
      assert.equal(err.code, 'auth_unavailable');
      assert.equal(err.status, 503);
      return true;
    });
  });
});

describe('authorizeModel', () => {
  it('lets an unrestricted principal use anything', () => {
    authorizeModel(ANONYMOUS, 'whatever');
  });

  it('refuses other aliases with 403 forbidden naming the model', () => {
    const principal = { tenant: 'a', keyId: 'k', allowedModels: ['fast', 'cheap'] };
    authorizeModel(principal, 'fast');
    assert.throws(
      () => authorizeModel(principal, 'gpt-4o'),
      (err: GatewayError) => {
        assert.equal(err.status, 403);
        assert.equal(err.code, 'forbidden');
        assert.equal(err.param, 'model');
        assert.match(err.message, /`gpt-4o`.*fast, cheap/);
        return true;
      },
    );
  });
});
