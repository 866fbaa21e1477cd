import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GatewayError } from '../core/errors.js';
import { openDatabase, type Database } from '../storage/database.js';
import { checkAdminAccess } from './admin-access.js';
import { authRig, bearer, type AuthRig } from '../../test/kits/tenancy-test-kit.js';

const status = async (promise: Promise<void>): Promise<number> => {
  try {
    await promise;
    return 200;
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    return err.status;
  }
};

describe('checkAdminAccess', () => {
  let database: Database;
  let r: AuthRig;
  let tenantKey: string;
  let revokedKey: string;
  const admin = 'admin-0f3c9a1e-secret';

  before(async () => {
    database = await openDatabase({ url: 'sqlite::memory:' });
    r = await authRig(database, { adminKey: admin });
    await r.store.createTenant({ id: 'acme' });
    tenantKey = (await r.store.createKey({ tenant: 'acme' })).secret;
    const revoked = await r.store.createKey({ tenant: 'acme' });
    await r.store.revokeKey(revoked.key.id);
    revokedKey = revoked.secret;
  });
  after(async () => {
    await r.close();
    await database.close();
  });

  it('admits the admin key from either header', async () => {
    assert.equal(await status(checkAdminAccess(bearer(admin), admin, r.authenticator)), 200);
    assert.equal(await status(checkAdminAccess({ 'x-api-key': admin }, admin, r.authenticator)), 200);
  });

  it('answers a valid tenant key with 403, anything else with 401', async () => {
    assert.equal(await status(checkAdminAccess(bearer(tenantKey), admin, r.authenticator)), 403);
    assert.equal(await status(checkAdminAccess(bearer(revokedKey), admin, r.authenticator)), 401);
    assert.equal(await status(checkAdminAccess(bearer(`${admin}x`), admin, r.authenticator)), 401);
    assert.equal(await status(checkAdminAccess({}, admin, r.authenticator)), 401);
  });

  it('without an admin key configured the admin API does not exist (404 saying how to enable it)', async () => {
    await assert.rejects(checkAdminAccess(bearer(admin), null, r.authenticator), (err: GatewayError) => {
      assert.equal(err.status, 404);
      assert.match(err.message, /admin\.apiKey/);
      return true;
    });
  });
});
