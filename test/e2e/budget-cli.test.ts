import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { childEnv, CLI } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-budget-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'tollgate.yaml');
writeFileSync(
  config,
  [
    `storage: { url: "sqlite:${join(dir, 'l.db')}" }`,
    'budgets: { limits: [{ id: from-file, window: daily, limitUsd: 10 }] }',
    '',
  ].join('\n'),
);
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, 'budgets', ...args, '--config', config], {
    env: childEnv(),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

void describe('tollgate budgets', () => {
  void it('sets, raises, lists (with the ledger spend) and deletes SQL budgets; config budgets are listed, not changed', () => {
    const set = cli('set', '--tenant', 'acme', '--limit', '50/month');
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /^budget tenant:acme:monthly: \$50\.00 monthly, tenant acme, hard, alerts at 50\/80\/100%/);
    assert.equal(cli('set', '--tenant', 'acme', '--limit', '75/month', '--thresholds', '90').code, 0);
    const listed = cli('list');
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /tenant:acme:monthly\s+tenant acme\s+m\d{4}-\d{2}\s+hard\s+\$75\.00\s+\$0\.00\s+0%\s+sql/);
    assert.match(listed.out, /from-file\s+all traffic\s+d\d{4}-\d{2}-\d{2}\s+hard\s+\$10\.00\s+\$0\.00\s+0%\s+config/);
    const json = JSON.parse(cli('list', '--json').out) as { id: string; thresholds: number[] }[];
    assert.deepEqual(json.find((b) => b.id === 'tenant:acme:monthly')?.thresholds, [90]);
    assert.match(cli('set', '--id', 'from-file', '--global', '--limit', '1/day').err, /defined in the config file/);
    assert.match(cli('set', '--limit', '1/day').err, /exactly one scope/);
    assert.equal(cli('delete', 'tenant:acme:monthly').code, 0);
    assert.match(cli('delete', 'tenant:acme:monthly').err, /no budget "tenant:acme:monthly"/);
  });
});
