import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import pino from 'pino';
import { openRedisTestSpace, withRedis } from '../../test/helpers/redis.js';
import { budgetStoreContract } from '../../test/kits/budget-store-contract.js';
import { toBudget } from './budget-spec.js';
import type { BudgetStore } from './types.js';
import { chargeFor } from './windows.js';
import { createRedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from '../storage/redis.js';

/** A store on a random prefix; closing it removes the prefix's keys. */
async function openStore(t: TestContext): Promise<BudgetStore | null> {
  const space = await openRedisTestSpace(t);
  if (!space) return null;
  const store = createRedisBudgetStore(space.redis, space.prefix);
  return { ...store, close: () => space.close() };
}

void describe('redis budget store', () => {
  budgetStoreContract(openStore);

  void it('two connections (two replicas) share the counters atomically', (t) =>
    withRedis(t, async ({ url, prefix }) => {
      const log = pino({ level: 'silent' });
      const a = createRedisBudgetStore(await connectRedis({ url, commandTimeoutMs: 2_000, log }), prefix);
      const b = createRedisBudgetStore(await connectRedis({ url, commandTimeoutMs: 2_000, log }), prefix);
      try {
        const budget = toBudget(
          { id: 'shared', scope: { kind: 'global' }, window: 'daily', limitMicros: 5_000 },
          'config',
        );
        const charge = chargeFor(budget, Date.now());
        await a.seed(charge, 0);
        const outcomes = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            (i % 2 ? a : b).reserve({ id: `r${i}`, charges: [charge], amountMicros: 100, ttlMs: 60_000 }),
          ),
        );
        assert.equal(outcomes.filter((o) => o.ok).length, 50);
        assert.equal((await b.standing(charge))?.reservedMicros, 5_000);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }));
});
