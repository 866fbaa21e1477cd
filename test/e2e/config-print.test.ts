import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { CLI, REPO_ROOT, childEnv } from '../helpers/process.js';

// Issue 7, item 10: `tollgate config check --print` printed a password written inside a URL.

const run = promisify(execFile);
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

void describe('tollgate config check --print', () => {
  void it('masks the password inside storage.url, redis.url and any other URL it prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-print-'));
    dirs.push(dir);
    const file = join(dir, 'tollgate.yaml');
    writeFileSync(
      file,
      [
        'storage: { url: "postgres://tollgate:pg-PASS-4242@db.internal:5432/ledger?sslmode=require" }',
        'redis: { url: "rediss://default:redis-PASS-4242@cache.internal:6380/0" }',
        'providers:',
        '  up: { type: openai, baseUrl: "https://gw:proxy-PASS-4242@proxy.internal/v1" }',
        'models:',
        '  m: { deployments: [{ provider: up, model: gpt-4o-mini }] }',
        '',
      ].join('\n'),
    );
    const { stdout, stderr } = await run(process.execPath, [CLI, 'config', 'check', '--print', '--config', file], {
      env: childEnv(),
      cwd: REPO_ROOT,
      timeout: 30_000,
    });
    assert.doesNotMatch(stdout + stderr, /PASS-4242/);
    assert.match(stdout, /url: postgres:\/\/tollgate:\*\*\*@db\.internal:5432\/ledger\?sslmode=require/);
    assert.match(stdout, /url: rediss:\/\/default:\*\*\*@cache\.internal:6380\/0/);
    assert.match(stdout, /baseUrl: https:\/\/gw:\*\*\*@proxy\.internal\/v1/);
    assert.match(stderr, /configuration OK/);
  });
});
