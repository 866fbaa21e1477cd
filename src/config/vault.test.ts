import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from './format-errors.js';
import { loadConfig, printableConfig } from './load.js';
import { Secret } from '../core/secret.js';
import { createVaultReader } from './vault.js';

const TOKEN = 'hvs.test-root-token';

/**
 * Imitates Vault's KV v2 read endpoint: `GET /v1/{mount}/data/{path}` answers
 * `{ data: { data, metadata }, ... }`, 403 `{errors:["permission denied"]}` for a wrong token
 * or a denied path, 404 `{errors:[]}` for a missing secret.
 */
async function startFakeVault(secrets: Record<string, Record<string, unknown>>, denied: string[] = []) {
  const requests: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const match = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(req.url ?? '');
    const id = match ? `${match[1]}/${decodeURIComponent(match[2]!)}` : '';
    if (req.headers['x-vault-token'] !== TOKEN || denied.includes(id))
      return send(403, { errors: ['permission denied'] });
    const data = secrets[id];
    if (!match || !data) return send(404, { errors: [] });
    send(200, {
      request_id: 'b7a1c9e0-0000-4000-8000-000000000000',
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: {
        data,
        metadata: {
          created_time: '2025-01-01T00:00:00Z',
          custom_metadata: null,
          deletion_time: '',
          destroyed: false,
          version: 3,
        },
      },
      wrap_info: null,
      warnings: null,
      auth: null,
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((done) => server.close(() => done()).closeAllConnections()),
  };
}

describe('createVaultReader', () => {
  let vault: Awaited<ReturnType<typeof startFakeVault>>;
  before(async () => {
    vault = await startFakeVault({ 'secret/app': { api_key: 'sk-vault-1', port: 5432 }, 'kv/other': { x: 'y' } }, [
      'secret/forbidden',
    ]);
  });
  after(() => vault.close());

  const reader = (token = TOKEN, namespace?: string) =>
    createVaultReader({ address: `${vault.address}/`, token: new Secret(token), mount: 'secret', namespace });

  it('reads a key over the KV v2 API, sending the token and namespace', async () => {
    vault.requests.length = 0;
    const vaultReader = reader(TOKEN, 'team-a');
    assert.equal(await vaultReader.read({ path: 'app', key: 'api_key' }), 'sk-vault-1');
    assert.equal(await vaultReader.read({ path: 'other', key: 'x', mount: 'kv' }), 'y');
    await vaultReader.close();
    assert.deepEqual(
      vault.requests.map((r) => r.url),
      ['/v1/secret/data/app', '/v1/kv/data/other'],
    );
    assert.equal(vault.requests[0]?.headers['x-vault-token'], TOKEN);
    assert.equal(vault.requests[0]?.headers['x-vault-namespace'], 'team-a');
  });

  it('fetches each path once however many keys are read from it', async () => {
    vault.requests.length = 0;
    const vaultReader = reader();
    const values = await Promise.all([
      vaultReader.read({ path: 'app', key: 'api_key' }),
      vaultReader.read({ path: '/app', key: 'port' }),
    ]);
    await vaultReader.close();
    assert.deepEqual(values, ['sk-vault-1', '5432']);
    assert.equal(vault.requests.length, 1);
  });

  it('explains a denied read, a missing secret and a missing key', async () => {
    const vaultReader = reader();
    await assert.rejects(
      vaultReader.read({ path: 'forbidden', key: 'k' }),
      /denied .*secret\/forbidden.*403.*permission denied/,
    );
    await assert.rejects(
      vaultReader.read({ path: 'secret/app', key: 'k' }),
      /no secret at secret\/secret\/app.*relative to the mount/,
    );
    await assert.rejects(
      vaultReader.read({ path: 'app', key: 'nope' }),
      /no key "nope" in secret\/app \(keys there: api_key, port\)/,
    );
    await vaultReader.close();
    const badToken = reader('wrong');
    await assert.rejects(badToken.read({ path: 'app', key: 'api_key' }), /HTTP 403/);
    await badToken.close();
  });

  it('says when Vault cannot be reached', async () => {
    const unreachable = createVaultReader({ address: 'http://127.0.0.1:1', token: new Secret(TOKEN), mount: 'secret' });
    await assert.rejects(unreachable.read({ path: 'app', key: 'k' }), /cannot reach Vault at http:\/\/127\.0\.0\.1:1/);
    await unreachable.close();
  });
});

describe('loadConfig with {vault} references', () => {
  let vault: Awaited<ReturnType<typeof startFakeVault>>;
  let dir: string;
  before(async () => {
    vault = await startFakeVault({ 'secret/tollgate': { openai: 'sk-from-vault-9f3a', db: 'pg-from-vault-77' } });
    dir = mkdtempSync(join(tmpdir(), 'tollgate-vault-'));
  });
  after(async () => {
    await vault.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (yaml: string) => {
    const path = join(dir, 'tollgate.yaml');
    writeFileSync(path, yaml);
    return path;
  };

  it('resolves vault.token first, then every reference, and never shows the values', async () => {
    vault.requests.length = 0;
    const path = write(`
vault:
  address: \${VAULT_ADDR}
  token: { env: VAULT_TOKEN }
storage:
  url: postgres://tollgate@db:5432/tollgate
  password: { vault: { path: tollgate, key: db } }
providers:
  openai: { type: openai, apiKey: { vault: "tollgate#openai" } }
models:
  gpt-4o: { deployments: [{ provider: openai, model: gpt-4o }] }
`);
    const { config } = await loadConfig({ path, env: { VAULT_ADDR: vault.address, VAULT_TOKEN: TOKEN } });
    const provider = config.providers.openai;
    assert.equal(provider?.type === 'openai' && provider.apiKey?.reveal(), 'sk-from-vault-9f3a');
    assert.equal(provider?.type === 'openai' && provider.apiKey?.source, 'vault:secret/tollgate#openai');
    assert.equal(config.storage.password?.reveal(), 'pg-from-vault-77');
    assert.equal(vault.requests.length, 1, 'one fetch for the two keys at one path');

    for (const shown of [printableConfig(config), JSON.stringify(config), inspect(config, { depth: 20 })]) {
      for (const value of ['sk-from-vault-9f3a', 'pg-from-vault-77', TOKEN]) assert.ok(!shown.includes(value), value);
    }
  });

  it('collects every Vault failure with the path of the reference', async () => {
    const path = write(`
vault: { address: "${vault.address}", token: { env: VAULT_TOKEN } }
providers:
  a: { type: openai, apiKey: { vault: "tollgate#missing" } }
  b: { type: openai, apiKey: { vault: "elsewhere#key" } }
`);
    const err = await loadConfig({ path, env: { VAULT_TOKEN: TOKEN } }).catch((e: unknown) => e);
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['providers.a.apiKey', 'providers.b.apiKey'],
    );
    assert.match(err.message, /providers\.a\.apiKey: vault:secret\/tollgate#missing: no key "missing"/);
    assert.match(err.message, /providers\.b\.apiKey: vault:secret\/elsewhere#key: no secret at secret\/elsewhere/);
    assert.ok(!err.message.includes(TOKEN) && !err.message.includes('sk-from-vault'));
  });

  it('reports references that have no vault section to read them from', async () => {
    const path = write(`providers:\n  a: { type: openai, apiKey: { vault: "tollgate#openai" } }\n`);
    const err = await loadConfig({ path, env: {} }).catch((e: unknown) => e);
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.issues, [
      {
        path: 'providers.a.apiKey',
        message: 'cannot read from Vault: there is no top-level vault section (address, token)',
      },
    ]);
  });
});
