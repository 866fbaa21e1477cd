import { sql } from 'kysely';
import type { Database } from '../storage/database.js';
import { DEFAULT_TENANT, type BudgetCharge } from './types.js';

/**
 * A budget's spend in one window according to the ledger — the source of truth counters are
 * (re)seeded from: after a restart (memory store), a new window, or Redis losing its keys.
 * Sums `cost_micros` of the rows in `[windowStart, windowEnd)` that the budget's scope covers.
 *
 * limitation: rows still buffered in other replicas' ledgers (≤ `ledger.flushIntervalMs` of
 * traffic) are not in the sum yet; this replica flushes its own first.
 */
export async function ledgerSpend(database: Pick<Database, 'db'>, charge: BudgetCharge): Promise<number> {
  const { scope } = charge.budget;
  let query = database.db
    .selectFrom('requests')
    .select(sql<string | number | null>`coalesce(sum(cost_micros), 0)`.as('spent'))
    .where('createdAt', '>=', charge.windowStart);
  if (Number.isFinite(charge.windowEnd)) query = query.where('createdAt', '<', charge.windowEnd);
  switch (scope.kind) {
    case 'global':
      break;
    case 'tenant':
    case 'feature': {
      const tenant = scope.tenant;
      query =
        tenant === DEFAULT_TENANT
          ? query.where((eb) => eb.or([eb('tenant', '=', tenant), eb('tenant', 'is', null)]))
          : query.where('tenant', '=', tenant);
      if (scope.kind === 'feature') query = query.where('feature', '=', scope.feature);
      break;
    }
    case 'key':
      query = query.where('keyId', '=', scope.keyId);
      break;
  }
  const row = await query.executeTakeFirst();
  return Number(row?.spent ?? 0);
}
