import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { budgetStoreContract } from '../../test/kits/budget-store-contract.js';
import { toBudget } from './budget-spec.js';
import { createMemoryBudgetStore } from './memory-budget-store.js';
import { chargeFor } from './windows.js';

void describe('memory budget store', () => {
  budgetStoreContract(async () => createMemoryBudgetStore());

  void it('between sweeps, a hold past its time to live stops counting where it would refuse a call', async () => {
    let now = Date.UTC(2026, 10, 28);
    const store = createMemoryBudgetStore(() => now);
    const budget = toBudget(
      { id: 'b', scope: { kind: 'tenant', tenant: 'acme' }, window: 'monthly', limitMicros: 100 },
      'config',
    );
    const charge = chargeFor(budget, now);
    await store.seed(charge, 0);
    assert.equal((await store.reserve({ id: 'orphan', charges: [charge], amountMicros: 100, ttlMs: 40 })).ok, true);
    assert.equal((await store.reserve({ id: 'blocked', charges: [charge], amountMicros: 1, ttlMs: 60_000 })).ok, false);
    now += 100; // well inside the 1 s sweep interval: only the refusal path can purge the orphan
    assert.equal((await store.reserve({ id: 'after', charges: [charge], amountMicros: 100, ttlMs: 60_000 })).ok, true);

    await store.close();
  });
});
