import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { findWorkerIssues, workerCount } from './check-workers.js';
import { configSchema } from './schema.js';

const base = { storage: { url: 'sqlite:./data/tollgate.db' }, budgets: { store: 'auto' }, redis: {} };

void describe('server.workers', () => {
  void it('one worker needs nothing shared', () => {
    assert.deepEqual(findWorkerIssues({ ...base, server: { workers: 1 } }), []);
  });

  void it('several workers (or auto, whatever this host has) require budgets in Redis and a shared database', () => {
    for (const workers of [2, 'auto'] as const) {
      const issues = findWorkerIssues({ ...base, storage: { url: 'sqlite::memory:' }, server: { workers } });
      assert.deepEqual(
        issues.map((i) => i.path.join('.')),
        ['budgets.store', 'storage.url'],
      );
      assert.match(issues[0]!.message, new RegExp(`server.workers is ${workers}: .*set redis.url`));
    }
    const memory = findWorkerIssues({
      ...base,
      budgets: { store: 'memory' },
      redis: { url: 'redis://r' },
      server: { workers: 2 },
    });
    assert.match(memory[0]!.message, /set budgets.store: redis \(or auto\) and redis.url/);
    assert.deepEqual(findWorkerIssues({ ...base, redis: { url: 'redis://r' }, server: { workers: 4 } }), []);
  });

  void it('the schema takes a count (also as the CLI passes it, a string) or auto, and reports the missing Redis', () => {
    const parse = (workers: unknown) =>
      configSchema.safeParse({ server: { workers }, redis: { url: 'redis://127.0.0.1:6379' } });
    assert.equal(parse('4').data?.server.workers, 4);
    assert.equal(parse('auto').data?.server.workers, 'auto');
    assert.equal(configSchema.parse({}).server.workers, 1);
    for (const bad of [0, '0', -1, 1.5, 'all']) assert.equal(parse(bad).success, false, String(bad));
    const refused = configSchema.safeParse({ server: { workers: 2 } });
    assert.equal(refused.success, false);
    assert.deepEqual(
      refused.error?.issues.map((i) => i.path.join('.')),
      ['budgets.store'],
    );
  });

  void it('auto is one per available core', () => {
    assert.equal(workerCount({ server: { workers: 'auto' } }), availableParallelism());
    assert.equal(workerCount({ server: { workers: 3 } }), 3);
  });
});
