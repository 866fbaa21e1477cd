import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { FakeClock } from '../core/clock.js';
import { openDatabase } from '../storage/database.js';
import { toBudget } from '../budgets/budget-spec.js';
import type { BudgetStanding } from '../budgets/types.js';
import { BudgetAlerts, sqlAlertClaim } from './budget-alerts.js';

const budget = toBudget(
  { id: 'acme', scope: { kind: 'tenant', tenant: 'acme' }, window: 'monthly', limitMicros: 1_000 },
  'config',
);
const standing = (spentMicros: number): BudgetStanding => ({
  budgetId: 'acme',
  windowKey: 'm2026-01',
  spentMicros,
  reservedMicros: 0,
  limitMicros: 1_000,
});
const log = pino({ level: 'silent' });

void describe('BudgetAlerts', () => {
  void it('fires each threshold once per window, across instances sharing the SQL claim', async () => {
    const database = await openDatabase({ url: 'sqlite::memory:' });
    const clock = new FakeClock();
    const claim = sqlAlertClaim(database, () => clock.wallNow());
    const fired: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => fired.push(JSON.parse(line).msg as string) });
    // Two "replicas": separate in-memory state, one table.
    const a = new BudgetAlerts({ claim, webhook: null, clock, log: logger });
    const b = new BudgetAlerts({ claim, webhook: null, clock, log: logger });
    const budgets = new Map([['acme', budget]]);
    try {
      a.observe(budgets, [standing(400)]);
      b.observe(budgets, [standing(510)]);
      a.observe(budgets, [standing(520)]);
      b.observe(budgets, [standing(1_200)]);
      a.observe(budgets, [standing(1_300)]);
      await Promise.all([a.close(), b.close()]);
      assert.deepEqual(fired.map((m) => /reached (\d+)%/.exec(m)?.[1]).sort(), ['100', '50', '80']);
      const rows = await database.db.selectFrom('budgetAlerts').select(['threshold', 'windowKey']).execute();
      assert.equal(rows.length, 3);
      // A new window fires again.
      a.observe(budgets, [{ ...standing(600), windowKey: 'm2026-02' }]);
      await a.close();
      assert.equal(fired.length, 4);
    } finally {
      await database.close();
    }
  });

  void it('a refusal by a hard budget counts as reaching 100% (once), with its own text', async () => {
    const fired: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => fired.push(JSON.parse(line).msg as string) });
    const claimed = new Set<string>();
    const alerts = new BudgetAlerts({
      claim: async (id, window, threshold) =>
        !claimed.has(`${id}${window}${threshold}`) && !!claimed.add(`${id}${window}${threshold}`),
      webhook: null,
      clock: new FakeClock(),
      log: logger,
    });
    const budgets = new Map([['acme', budget]]);
    const nearlyFull = { ...standing(900), reservedMicros: 80 };
    alerts.observe(budgets, [nearlyFull], new Set(['acme']));
    alerts.observe(budgets, [nearlyFull], new Set(['acme']));
    await alerts.close();
    assert.deepEqual(fired.slice(-1), [
      'Tollgate: budget "acme" (tenant acme, hard) is exhausted monthly window 2026-01: a call was refused with $0.00098 of $0.001 spent or reserved.',
    ]);
    assert.equal(fired.length, 3, '50, 80 (spent) and 100 (refused), each once');
  });

  void it('forgets a threshold it could not record, and tries again on the next settle', async () => {
    let attempts = 0;
    const alerts = new BudgetAlerts({
      claim: async () => {
        attempts++;
        if (attempts === 1) throw new Error('database down');
        return true;
      },
      webhook: null,
      clock: new FakeClock(),
      log,
    });
    const budgets = new Map([['acme', budget]]);
    alerts.observe(budgets, [standing(600)]);
    await alerts.close();
    alerts.observe(budgets, [standing(610)]);
    await alerts.close();
    assert.equal(attempts, 2);
  });
});
