import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway } from '../helpers/gateway.js';
import { CLI, childEnv } from '../helpers/process.js';

const run = promisify(execFile);

async function tollgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: childEnv(), timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * The README's path: create a tenant and a key with the CLI against the database a gateway uses,
 * call the gateway with the key, rotate it with the CLI, read usage with the CLI.
 */
describe('tollgate tenants / keys / usage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-keys-cli-'));
  const db = join(dir, 'tollgate.db');
  const config = join(dir, 'tollgate.yaml');
  writeFileSync(
    config,
    [
      `storage: { url: "sqlite:${db}" }`,
      'providers: { mock: { type: mock } }',
      'models:',
      '  gpt-4o-mini: { deployments: [{ provider: mock, model: gpt-4o-mini }] }',
      '  gpt-4o: { deployments: [{ provider: mock, model: gpt-4o }] }',
      '',
    ].join('\n'),
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates, uses, lists, rotates and reports, against the database a running gateway uses', async () => {
    const tenant = await tollgate(['tenants', 'create', 'acme', '--budget', '500/month', '-c', config]);
    assert.equal(tenant.code, 0, tenant.stderr);
    assert.match(tenant.stdout, /tenant acme created\n {2}budget: tenant:acme:monthly \$500\.00 monthly \(hard\)/);

    const created = await tollgate([
      'keys',
      'create',
      '--tenant',
      'acme',
      '--models',
      'gpt-4o-mini',
      '--budget',
      '50/month',
      '-c',
      config,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^tg-[0-9A-Za-z]{43}$/, 'stdout is the key alone, for KEY=$(tollgate keys create …)');
    assert.match(
      created.stderr,
      /models: {2}gpt-4o-mini\n {2}budget: {2}\$50\.00 monthly \(hard, key:key_\w+:monthly\)/,
    );
    assert.match(created.stderr, /only time the key is shown/);

    const gw = await startTestGateway({
      storage: { url: `sqlite:${db}` },
      auth: { refreshIntervalMs: 100 },
      ledger: { flushIntervalMs: 20 },
      providers: { mock: { type: 'mock' } },
      models: {
        'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
        'gpt-4o': { deployments: [{ provider: 'mock', model: 'gpt-4o' }] },
      },
    });
    try {
      const client = (key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'hi' }];
      for (let i = 0; i < 3; i++) await client(secret).chat.completions.create({ model: 'gpt-4o-mini', messages });
      await assert.rejects(
        client(secret).chat.completions.create({ model: 'gpt-4o', messages }),
        OpenAI.PermissionDeniedError,
      );

      const listed = await tollgate(['keys', 'list', '--json', '-c', config]);
      const [key] = JSON.parse(listed.stdout) as { id: string; prefix: string; tenant: string }[];
      assert.equal(key?.tenant, 'acme');
      assert.ok(secret.startsWith(key.prefix));
      assert.ok(!listed.stdout.includes(secret.slice(9)), 'the list never shows the secret');
      const table = await tollgate(['keys', 'list', '-c', config]);
      assert.match(table.stdout, new RegExp(`${key.id} +acme +default +${key.prefix}… +active +gpt-4o-mini`));

      const rotated = await tollgate(['keys', 'rotate', key.id, '--grace', '0', '-c', config]);
      assert.equal(rotated.code, 0, rotated.stderr);
      const fresh = rotated.stdout.trim();
      assert.match(rotated.stderr, /the old secret stopped working now/);
      // The running gateway hears of the CLI's write at its next refresh (100 ms here).
      const deadline = Date.now() + 2_000;
      for (;;) {
        try {
          await client(secret).chat.completions.create({ model: 'gpt-4o-mini', messages });
        } catch (err) {
          assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
          break;
        }
        assert.ok(Date.now() < deadline, 'the old secret still works 2 s after rotation');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await client(fresh).chat.completions.create({ model: 'gpt-4o-mini', messages });
    } finally {
      await gw.close();
    }

    const [usage, csv, missing] = await Promise.all([
      tollgate(['usage', '--group-by', 'tenant,model', '-c', config]),
      tollgate(['usage', '--group-by', 'key', '--format', 'csv', '-c', config]),
      tollgate(['keys', 'create', '--tenant', 'nope', '-c', config]),
    ]);
    assert.equal(usage.code, 0, usage.stderr);
    assert.match(usage.stdout, /\ntenant +model +requests +errors/);
    assert.match(usage.stdout, /\nacme +gpt-4o-mini +\d+ +\d+/);
    const total = /\nTOTAL +(\d+) +(\d+)/.exec(usage.stdout);
    assert.ok(total, usage.stdout);
    const lines = csv.stdout.trimEnd().split('\r\n');
    assert.equal(lines[0], 'key,requests,errors,input_tokens,output_tokens,cached_tokens,cost_micros,cost_usd');
    assert.equal(
      lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[1]), 0),
      Number(total[1]),
      'CSV rows add up to the table total',
    );
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr.trim(),
      'error: tenant nope does not exist: create it first (tollgate tenants create nope)',
    );
  });
});
