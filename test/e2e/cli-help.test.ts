import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { CLI, REPO_ROOT, childEnv } from '../helpers/process.js';

// Issue 7, item 10: the help said --rpm/--tpm were enforced; nothing enforces them yet.

const run = promisify(execFile);

void describe('tollgate keys create --help', () => {
  void it('says --rpm and --tpm are stored and not enforced yet', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'keys', 'create', '--help'], {
      env: childEnv(),
      cwd: REPO_ROOT,
      timeout: 30_000,
    });
    const line = (flag: string): string => stdout.split('\n').find((l) => l.trimStart().startsWith(flag)) ?? '';
    for (const flag of ['--rpm', '--tpm']) {
      assert.match(line(flag), /\(stored, not enforced yet\)/, stdout);
      assert.doesNotMatch(line(flag), /enforced by/, stdout);
    }
  });
});

// Issue 8, item 9: `tollgate --help` starts at once: it loads commander, not the gateway.
void describe('tollgate --help', () => {
  void it('loads no tokenizer table, no storage, server or config code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-help-'));
    try {
      const logFile = join(dir, 'modules.log');
      const hook = join(REPO_ROOT, 'test', 'helpers', 'log-modules.mjs');
      const { stdout } = await run(process.execPath, ['--import', hook, CLI, '--help'], {
        env: childEnv({ TOLLGATE_TEST_MODULE_LOG: logFile }),
        cwd: REPO_ROOT,
        timeout: 30_000,
      });
      assert.match(stdout, /^Usage: tollgate/m);
      for (const command of ['serve', 'config', 'mock', 'tenants', 'keys', 'usage', 'budgets'])
        assert.match(stdout, new RegExp(`^  ${command}\\b`, 'm'), stdout);
      const loaded = readFileSync(logFile, 'utf8').split('\n');
      assert.ok(
        loaded.some((url) => url.endsWith('/src/cli/main.ts')),
        'the hook saw the CLI load',
      );
      const heavy = loaded.filter((url) =>
        /gpt-tokenizer|node_modules\/(kysely|fastify|zod|undici|pino|yaml)\/|\/src\/(gateway|server|storage|config\/load)/.test(
          url,
        ),
      );
      assert.deepEqual(heavy, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
