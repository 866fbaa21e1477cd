import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../storage/database.js';
import { createSqlBudgetRepository } from './budget-repository.js';
import { parseBudgetSpec } from './budget-spec.js';

void describe('createSqlBudgetRepository (SQLite)', () => {
  void it('upserts a key budget from the CLI notation, reads it back, replaces it, deletes it', async () => {
    const database = await openDatabase({ url: 'sqlite::memory:' });
    let changes = 0;
    const repo = createSqlBudgetRepository(database, {
      onChange: () => {
        changes++;
      },
    });
    try {
      const created = await repo.upsert({ scope: { kind: 'key', keyId: 'k_123' }, ...parseBudgetSpec('50/month') });
      assert.deepEqual(created, {
        id: 'key:k_123:monthly',
        scope: { kind: 'key', keyId: 'k_123' },
        window: 'monthly',
        limitMicros: 50_000_000,
        action: 'hard',
        downgradeTo: null,
        thresholds: [50, 80, 100],
        failOpen: false,
        source: 'sql',
      });
      assert.deepEqual(await repo.get('key:k_123:monthly'), created);
      await repo.upsert({
        scope: { kind: 'key', keyId: 'k_123' },
        window: 'monthly',
        limitMicros: 75_000_000,
        action: 'soft',
        thresholds: [90, 25],
      });
      const replaced = await repo.get('key:k_123:monthly');
      assert.equal(replaced?.limitMicros, 75_000_000);
      assert.deepEqual(replaced?.thresholds, [25, 90]);
      await repo.upsert({
        id: 'acme-search',
        scope: { kind: 'feature', tenant: 'acme', feature: 'search' },
        window: 'daily',
        limitMicros: 1,
      });
      assert.deepEqual(
        (await repo.list({ tenant: 'acme' })).map((b) => b.id),
        ['acme-search'],
      );
      assert.deepEqual(
        (await repo.list({ keyId: 'k_123' })).map((b) => b.id),
        ['key:k_123:monthly'],
      );
      assert.equal(await repo.delete('key:k_123:monthly'), true);
      assert.equal(await repo.delete('key:k_123:monthly'), false);
      assert.equal(changes, 5);
    } finally {
      await database.close();
    }
  });

  void it('refuses bad input with a message naming the budget and the field', async () => {
    const database = await openDatabase({ url: 'sqlite::memory:' });
    const repo = createSqlBudgetRepository(database);
    try {
      await assert.rejects(
        repo.upsert({ scope: { kind: 'tenant', tenant: 'acme' }, window: 'daily', limitMicros: 1.5 }),
        /budget tenant:acme:daily: limitMicros must be a non-negative integer/,
      );
      await assert.rejects(
        repo.upsert({
          scope: { kind: 'tenant', tenant: 'acme' },
          window: 'daily',
          limitMicros: 1,
          action: 'downgrade',
        }),
        /needs downgradeTo/,
      );
    } finally {
      await database.close();
    }
  });
});

void describe('parseBudgetSpec', () => {
  void it('reads dollars exactly and the window words', () => {
    assert.deepEqual(parseBudgetSpec('50/month'), { limitMicros: 50_000_000, window: 'monthly' });
    assert.deepEqual(parseBudgetSpec('$0.29/day'), { limitMicros: 290_000, window: 'daily' });
    assert.deepEqual(parseBudgetSpec('100 / total'), { limitMicros: 100_000_000, window: 'total' });
    assert.throws(() => parseBudgetSpec('50'), /<dollars>\/<day\|month\|total>/);
    assert.throws(() => parseBudgetSpec('50/week'), /50\/week/);
  });
});
