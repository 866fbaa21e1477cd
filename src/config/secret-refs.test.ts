import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Secret } from '../core/secret.js';
import { parseSecretRef, resolveSecretRefs } from './secret-refs.js';

describe('parseSecretRef', () => {
  it('recognises the three reference forms', () => {
    assert.deepEqual(parseSecretRef({ env: 'KEY' }), { kind: 'env', name: 'KEY' });
    assert.deepEqual(parseSecretRef({ file: '/run/secrets/key' }), { kind: 'file', path: '/run/secrets/key' });
    assert.deepEqual(parseSecretRef({ vault: 'app/openai#api_key' }), {
      kind: 'vault',
      location: { path: 'app/openai', key: 'api_key' },
    });
    assert.deepEqual(parseSecretRef({ vault: { path: 'app', key: 'k', mount: 'kv' } }), {
      kind: 'vault',
      location: { path: 'app', key: 'k', mount: 'kv' },
    });
  });

  it('leaves ordinary configuration alone', () => {
    for (const value of [
      { env: 'A', other: 1 },
      { env: 5 },
      { vault: 'no-key' },
      { vault: 'path#' },
      { vault: { address: 'http://vault', token: 't' } },
      'env',
      ['env'],
    ]) {
      assert.equal(parseSecretRef(value), undefined, JSON.stringify(value));
    }
  });
});

describe('resolveSecretRefs', () => {
  it('replaces env and file references by Secrets, trimming one trailing newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-secrets-'));
    try {
      writeFileSync(join(dir, 'key'), 'from-file\n');
      const tree = { a: { apiKey: { env: 'KEY' } }, list: [{ file: 'key' }], plain: { env: 'KEY', x: 1 } };
      const { value, issues } = await resolveSecretRefs(tree, { env: { KEY: 'from-env' }, baseDir: dir });
      assert.deepEqual(issues, []);
      const resolved = value as { a: { apiKey: Secret }; list: Secret[]; plain: unknown };
      assert.ok(resolved.a.apiKey instanceof Secret);
      assert.equal(resolved.a.apiKey.reveal(), 'from-env');
      assert.equal(resolved.a.apiKey.source, 'env:KEY');
      assert.equal(resolved.list[0]?.reveal(), 'from-file');
      assert.equal(resolved.list[0]?.source, `file:${join(dir, 'key')}`);
      assert.deepEqual(resolved.plain, { env: 'KEY', x: 1 });
      assert.deepEqual(tree.a.apiKey, { env: 'KEY' }, 'the input is not modified');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('collects every failure instead of stopping at the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-secrets-'));
    try {
      writeFileSync(join(dir, 'empty'), '\n');
      const tree = {
        a: { env: 'UNSET' },
        b: { env: 'EMPTY' },
        c: { file: 'empty' },
        vault: { token: { vault: 'x#y' } },
      };
      const { issues } = await resolveSecretRefs(tree, { env: { EMPTY: '' }, baseDir: dir });
      assert.deepEqual(issues, [
        { path: 'vault.token', message: 'the Vault token cannot itself come from Vault' },
        { path: 'a', message: 'environment variable UNSET is not set' },
        { path: 'b', message: 'environment variable EMPTY is empty' },
        { path: 'c', message: `secret file ${join(dir, 'empty')} is empty` },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
