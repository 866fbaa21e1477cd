import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  it('allows retries up to the ratio of recent first attempts, then refuses', () => {
    const budget = new RetryBudget(new FakeClock(), { ratio: 0.2, windowMs: 10_000, minRetries: 0 });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    const granted = Array.from({ length: 30 }, () => budget.tryRetry()).filter(Boolean).length;
    assert.equal(granted, 20);
    assert.equal(budget.refused, 10);
    assert.equal(budget.available(), 0);
  });

  it('refills as traffic goes on, keeping retries ≤ 20 % of requests at every point', () => {
    const budget = new RetryBudget(new FakeClock(), { ratio: 0.2, windowMs: 10_000, minRetries: 0 });
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < 1_000; i++) {
      budget.recordRequest();
      requests++;
      // Every request fails and wants a retry: the budget decides.
      if (budget.tryRetry()) retries++;
      assert.ok(retries <= 0.2 * requests, `${retries} retries for ${requests} requests`);
    }
    assert.ok(retries >= 199, `the budget is used, not starved: ${retries}`);
  });

  it('minRetries lets a quiet deployment retry', () => {
    const budget = new RetryBudget(new FakeClock(), { ratio: 0.2, windowMs: 10_000, minRetries: 3 });
    budget.recordRequest();
    assert.deepEqual(
      Array.from({ length: 4 }, () => budget.tryRetry()),
      [true, true, true, false],
    );
  });

  it('exhaustion is forgotten once the window has passed', async () => {
    const clock = new FakeClock();
    const budget = new RetryBudget(clock, { ratio: 0.2, windowMs: 1_000, minRetries: 1 });
    assert.equal(budget.tryRetry(), true);
    assert.equal(budget.tryRetry(), false);
    await clock.advance(1_000);
    assert.equal(budget.tryRetry(), true);
  });
});
