import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it, type TestContext } from 'node:test';
import { toBudget } from '../../src/budgets/budget-spec.js';
import type { Budget, BudgetAction, BudgetCharge, BudgetStore } from '../../src/budgets/types.js';
import { chargeFor } from '../../src/budgets/windows.js';

/**
 * The behaviour every `BudgetStore` must have: run by the memory store's unit test and the Redis
 * store's integration test. `open` returns a fresh, empty store (for Redis: a random prefix),
 * or null to skip (with the reason already reported).
 */
export function budgetStoreContract(open: (t: TestContext) => Promise<BudgetStore | null>): void {
  let n = 0;
  const budget = (limitMicros: number, action: BudgetAction = 'hard'): Budget =>
    toBudget(
      {
        id: `b${++n}-${randomUUID().slice(0, 6)}`,
        scope: { kind: 'tenant', tenant: 'acme' },
        window: 'monthly',
        limitMicros,
        action,
        ...(action === 'downgrade' ? { downgradeTo: 'cheap' } : {}),
      },
      'config',
    );
  const charge = (b: Budget): BudgetCharge => chargeFor(b, Date.now());
  const reserve = (store: BudgetStore, id: string, charges: BudgetCharge[], amountMicros: number, ttlMs = 60_000) =>
    store.reserve({ id, charges, amountMicros, ttlMs });
  const seeded = async (store: BudgetStore, ...charges: BudgetCharge[]): Promise<BudgetCharge[]> => {
    for (const c of charges) await store.seed(c, 0);
    return charges;
  };
  const test = (name: string, body: (store: BudgetStore) => Promise<void>): void => {
    void it(name, async (t) => {
      const store = await open(t);
      if (!store) return;
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });
  };

  test('a counter it does not know is reported unseeded; seeding sets it once', async (store) => {
    const c = charge(budget(1_000));
    assert.deepEqual(await reserve(store, 'r1', [c], 10), { ok: false, unseeded: [c] });
    assert.equal(await store.standing(c), null);
    await store.seed(c, 400);
    await store.seed(c, 999); // already known: ignored
    assert.deepEqual(await store.standing(c), {
      budgetId: c.budget.id,
      windowKey: c.windowKey,
      spentMicros: 400,
      reservedMicros: 0,
      limitMicros: 1_000,
    });
  });

  test('hard: admits up to the limit exactly, then refuses naming the budget', async (store) => {
    const [c] = await seeded(store, charge(budget(100)));
    const first = await reserve(store, 'a', [c!], 60);
    assert.equal(first.ok, true);
    const second = await reserve(store, 'b', [c!], 40);
    assert.equal(second.ok, true);
    const third = await reserve(store, 'c', [c!], 1);
    assert.ok(!third.ok && 'over' in third);
    assert.deepEqual(third.over, [c!.budget.id]);
    assert.equal((await store.standing(c!))?.reservedMicros, 100);
  });

  test('all or nothing across budgets: one full budget refuses the call on every budget', async (store) => {
    const [roomy, full] = await seeded(store, charge(budget(1_000)), charge(budget(50)));
    const outcome = await reserve(store, 'x', [roomy!, full!], 60);
    assert.ok(!outcome.ok && 'over' in outcome);
    assert.deepEqual(outcome.over, [full!.budget.id]);
    assert.equal((await store.standing(roomy!))?.reservedMicros, 0);
    assert.equal((await store.standing(full!))?.reservedMicros, 0);
  });

  test('soft: admits past the limit and says which budget went over', async (store) => {
    const [soft, hard] = await seeded(store, charge(budget(10, 'soft')), charge(budget(1_000)));
    const outcome = await reserve(store, 's', [soft!, hard!], 50);
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.over, [soft!.budget.id]);
    assert.equal((await store.standing(soft!))?.reservedMicros, 50);
  });

  test('downgrade budgets refuse like hard ones (the policy then reroutes)', async (store) => {
    const [c] = await seeded(store, charge(budget(10, 'downgrade')));
    assert.equal((await reserve(store, 'd', [c!], 11)).ok, false);
  });

  test('reserve is idempotent by id', async (store) => {
    const [c] = await seeded(store, charge(budget(100)));
    assert.equal((await reserve(store, 'same', [c!], 30)).ok, true);
    assert.equal((await reserve(store, 'same', [c!], 30)).ok, true);
    assert.equal((await store.standing(c!))?.reservedMicros, 30);
  });

  test('settle turns the reservation into the actual spend, once', async (store) => {
    const [a, b] = await seeded(store, charge(budget(1_000)), charge(budget(1_000)));
    await reserve(store, 'call', [a!, b!], 300);
    const standings = await store.settle('call', 120, [a!, b!]);
    assert.deepEqual(
      standings.map((s) => [s.spentMicros, s.reservedMicros]),
      [
        [120, 0],
        [120, 0],
      ],
    );
    await store.settle('call', 120, [a!, b!]);
    assert.equal((await store.standing(a!))?.spentMicros, 120, 'a repeated settle is a no-op');
    await store.release('call', [a!, b!]);
    await store.settle('call', 120, [a!, b!]);
    assert.equal((await store.standing(a!))?.spentMicros, 120, 'a release does not forget the settlement');
    assert.equal((await reserve(store, 'call', [a!, b!], 300)).ok, true);
    assert.equal((await store.standing(a!))?.reservedMicros, 0, 'a settled id cannot be reserved again');
  });

  test('settle without a reservation still records the spend; on an unknown counter it stays unknown', async (store) => {
    const [known] = await seeded(store, charge(budget(1_000)));
    const unknown = charge(budget(1_000));
    await store.settle('late', 77, [known!, unknown]);
    assert.equal((await store.standing(known!))?.spentMicros, 77);
    assert.equal(await store.standing(unknown), null);
  });

  test('release frees the reservation with no spend; idempotent', async (store) => {
    const [c] = await seeded(store, charge(budget(100)));
    await reserve(store, 'gone', [c!], 90);
    await store.release('gone', [c!]);
    await store.release('gone', [c!]);
    assert.deepEqual([(await store.standing(c!))?.spentMicros, (await store.standing(c!))?.reservedMicros], [0, 0]);
    assert.equal((await reserve(store, 'next', [c!], 100)).ok, true);
  });

  test('a reservation past its time to live is released (its process died)', async (store) => {
    const [c] = await seeded(store, charge(budget(100)));
    await reserve(store, 'orphan', [c!], 100, 40);
    assert.equal((await reserve(store, 'blocked', [c!], 1)).ok, false);
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal((await reserve(store, 'after', [c!], 100)).ok, true);
  });

  test('extend adds to a reservation under the same rule, and refuses when there is no room', async (store) => {
    const [c] = await seeded(store, charge(budget(100)));
    await reserve(store, 'stream', [c!], 40);
    assert.equal((await store.extend('stream', 50, [c!], 60_000)).ok, true);
    assert.equal((await store.standing(c!))?.reservedMicros, 90);
    const refused = await store.extend('stream', 11, [c!], 60_000);
    assert.ok(!refused.ok && 'over' in refused);
    assert.deepEqual(refused.over, [c!.budget.id]);
    await store.settle('stream', 95, [c!]);
    assert.deepEqual([(await store.standing(c!))?.spentMicros, (await store.standing(c!))?.reservedMicros], [95, 0]);
  });

  test('200 concurrent reservations against a limit that fits 50: exactly 50 admitted', async (store) => {
    const [c] = await seeded(store, charge(budget(5_000)));
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => reserve(store, `c${i}`, [c!], 100)));
    assert.equal(outcomes.filter((o) => o.ok).length, 50);
    assert.equal((await store.standing(c!))?.reservedMicros, 5_000);
  });
}
