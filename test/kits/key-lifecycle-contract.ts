// The key lifecycle contract: every SQL backend must pass it. Registered by key-store.test.ts
// (SQLite) and key-store.int.test.ts (PostgreSQL); test-only, nothing in the gateway imports it.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { GatewayError, type ErrorCode } from '../../src/core/errors.js';
import type { Database } from '../../src/storage/database.js';
import { createKeyStore } from '../../src/tenancy/key-store.js';
import { authRig, bearer, type AuthRig } from './tenancy-test-kit.js';

export type WithDatabase = (t: TestContext, fn: (database: Database) => Promise<void>) => Promise<void>;

const HOUR = 3_600_000;

async function status(rig: AuthRig, secret: string): Promise<string> {
  try {
    const principal = await rig.authenticator.authenticate(bearer(secret));
    return `ok ${principal.keyId}`;
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return `${err.status} ${err.message}`;
  }
}

const code = (expected: ErrorCode) => (err: unknown) => {
  assert.ok(err instanceof GatewayError, String(err));
  assert.equal(err.code, expected);
  return true;
};

export function keyLifecycleContract(backend: string, withDatabase: WithDatabase): void {
  void describe(`key lifecycle: ${backend}`, () => {
    void it('create → use → rotate with grace → old secret dies at grace end → revoke → expire', (t) =>
      withDatabase(t, async (database) => {
        // The test refreshes the cache itself; a slow background poll keeps the fake-clock hours cheap.
        const rig = await authRig(database, { refreshIntervalMs: 10 * 60_000 });
        try {
          const { store, cache, clock } = rig;
          await store.createTenant({ id: 'acme', name: 'Acme Inc' });
          await assert.rejects(store.createTenant({ id: 'acme' }), code('conflict'));
          await assert.rejects(store.createKey({ tenant: 'nobody' }), code('not_found'));

          // create → use
          const { key, secret } = await store.createKey({ tenant: 'acme', name: 'api', allowedModels: ['fast'] });
          assert.equal(await status(rig, secret), `ok ${key.id}`);
          assert.deepEqual(
            (await store.listKeys({ tenant: 'acme' })).map((k) => k.id),
            [key.id],
          );

          // rotate with a one-hour grace: both secrets work, for the same key id
          const rotated = await store.rotateKey(key.id, { graceMs: HOUR });
          assert.equal(rotated.key.id, key.id);
          assert.notEqual(rotated.secret, secret);
          assert.equal(rotated.key.previousPrefix, key.prefix);
          await cache.refresh();
          await clock.advance(HOUR - 1);
          assert.equal(await status(rig, secret), `ok ${key.id}`);
          assert.equal(await status(rig, rotated.secret), `ok ${key.id}`);

          // grace end: the old secret dies, the new one lives
          await clock.advance(1);
          assert.match(await status(rig, secret), /^401 .*grace period ended/);
          assert.equal(await status(rig, rotated.secret), `ok ${key.id}`);

          // revoke: refused at once in this process (after the refresh its own write triggers elsewhere)
          const revoked = await store.revokeKey(key.id, 'leaked in a log');
          assert.equal(revoked.revokedReason, 'leaked in a log');
          assert.deepEqual(await store.revokeKey(key.id), revoked, 'revoking twice changes nothing');
          await cache.refresh();
          assert.match(await status(rig, rotated.secret), /^401 .*revoked/);
          await assert.rejects(store.rotateKey(key.id, { graceMs: 0 }), code('conflict'));

          // expire: a key with an expiry dies on time; expireKey ends one now
          const timed = await store.createKey({ tenant: 'acme', expiresAt: clock.wallNow() + 2 * HOUR });
          const other = await store.createKey({ tenant: 'acme' });
          assert.equal(await status(rig, timed.secret), `ok ${timed.key.id}`);
          assert.equal(await status(rig, other.secret), `ok ${other.key.id}`);
          await store.expireKey(other.key.id);
          await cache.refresh();
          assert.match(await status(rig, other.secret), /^401 .*expired/);
          await clock.advance(2 * HOUR);
          assert.match(await status(rig, timed.secret), /^401 .*expired/);

          // listing: active only by default, everything on request, never a hash
          assert.deepEqual(await store.listKeys({ tenant: 'acme' }), []);
          const all = await store.listKeys({ tenant: 'acme', includeInactive: true });
          assert.equal(all.length, 3);
          assert.ok(all.every((k) => !('hash' in k) && !('previousHash' in k)));
          await assert.rejects(store.revokeKey('key_missing'), code('not_found'));
        } finally {
          await rig.close();
        }
      }));

    void it('stores no secret: no column of any key row contains one', (t) =>
      withDatabase(t, async (database) => {
        const store = createKeyStore(database);
        await store.createTenant({ id: 'dump' });
        const secrets = [(await store.createKey({ tenant: 'dump' })).secret];
        const { key, secret } = await store.createKey({ tenant: 'dump' });
        secrets.push(secret, (await store.rotateKey(key.id, { graceMs: HOUR })).secret);
        const { rows } = await sql<Record<string, unknown>>`select * from api_keys`.execute(database.db);
        const dump = JSON.stringify(rows);
        for (const s of secrets) {
          assert.ok(!dump.includes(s), 'a secret is stored');
          assert.ok(!dump.includes(s.slice(9, 25)), 'a piece of a secret beyond the display prefix is stored');
        }
      }));

    void it('every write gets the next change version, even when written concurrently', (t) =>
      withDatabase(t, async (database) => {
        const store = createKeyStore(database);
        const before = await store.currentVersion();
        await store.createTenant({ id: 'race' });
        const created = await Promise.all(Array.from({ length: 12 }, () => store.createKey({ tenant: 'race' })));
        await Promise.all(created.slice(0, 4).map(({ key }) => store.revokeKey(key.id)));
        const changes = await store.changesSince(before);
        assert.equal(changes.length, 12);
        assert.equal(await store.currentVersion(), before + 16);
        const versions = changes.map((c) => c.version);
        assert.deepEqual(
          versions,
          [...versions].sort((a, b) => a - b),
        );
        assert.equal(new Set(versions).size, 12);
        assert.equal((await store.changesSince(await store.currentVersion())).length, 0);
      }));

    void it('rejects bad input naming the field', (t) =>
      withDatabase(t, async (database) => {
        const store = createKeyStore(database);
        await assert.rejects(store.createTenant({ id: 'Not Valid' }), /tenant id must be/);
        await store.createTenant({ id: 'ok' });
        await assert.rejects(store.createKey({ tenant: 'ok', allowedModels: [] }), /at least one alias/);
        await assert.rejects(store.createKey({ tenant: 'ok', rpmLimit: 0 }), /rpm_limit/);
        await assert.rejects(store.createKey({ tenant: 'ok', expiresAt: 1_000 }), /epoch milliseconds/);
        await assert.rejects(store.createKey({ tenant: 'ok', expiresAt: Date.now() - 1_000 }), /in the future/);
        await assert.rejects(store.createKey({ tenant: 'ok', metadata: { big: 'x'.repeat(5_000) } }), /4096 bytes/);
        const { key } = await store.createKey({ tenant: 'ok' });
        await assert.rejects(store.rotateKey(key.id, { graceMs: -1 }), code('invalid_request'));
      }));
  });
}
