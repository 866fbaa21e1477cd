import type { Selectable } from 'kysely';
import type { Database } from '../storage/database.js';
import type { BudgetsTable } from '../storage/tables.js';
import { toBudget } from './budget-spec.js';
import type { Budget, BudgetInput, BudgetRepository, BudgetScope } from './types.js';

/**
 * Budget definitions in SQL (`budgets`, migration 003), for SQLite and PostgreSQL alike.
 * `onChange` runs (and is awaited) after every write: the gateway refreshes its view of budgets,
 * so a budget written in this process applies to the very next call.
 *
 * @example
 * const budgets = createSqlBudgetRepository(database);
 * await budgets.upsert({ scope: { kind: 'key', keyId: 'k_123' }, ...parseBudgetSpec('50/month') });
 */
export function createSqlBudgetRepository(
  database: Pick<Database, 'db'>,
  options: { now?: () => number; onChange?: () => void | Promise<void> } = {},
): BudgetRepository {
  const { db } = database;
  const now = options.now ?? Date.now;
  const changed = async (): Promise<void> => {
    await options.onChange?.();
  };

  return {
    async upsert(input: BudgetInput): Promise<Budget> {
      const budget = toBudget(input, 'sql');
      const at = now();
      const values = { ...toColumns(budget), updatedAt: at };
      await db
        .insertInto('budgets')
        .values({ ...values, createdAt: at })
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute();
      await changed();
      return budget;
    },
    async get(id) {
      const row = await db.selectFrom('budgets').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    async list(filter = {}) {
      let query = db.selectFrom('budgets').selectAll().orderBy('id');
      if (filter.kind) query = query.where('scopeKind', '=', filter.kind);
      if (filter.tenant) query = query.where('tenant', '=', filter.tenant);
      if (filter.keyId) query = query.where('keyId', '=', filter.keyId);
      return (await query.execute()).map(fromRow);
    },
    async delete(id) {
      const result = await db.deleteFrom('budgets').where('id', '=', id).executeTakeFirst();
      await changed();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

function toColumns(budget: Budget): Omit<BudgetsTable, 'createdAt' | 'updatedAt' | 'failOpen'> & { failOpen: number } {
  const scope = budget.scope;
  return {
    id: budget.id,
    scopeKind: scope.kind,
    tenant: scope.kind === 'tenant' || scope.kind === 'feature' ? scope.tenant : null,
    feature: scope.kind === 'feature' ? scope.feature : null,
    keyId: scope.kind === 'key' ? scope.keyId : null,
    window: budget.window,
    limitMicros: budget.limitMicros,
    action: budget.action,
    downgradeTo: budget.downgradeTo,
    thresholds: JSON.stringify(budget.thresholds),
    failOpen: budget.failOpen ? 1 : 0,
  };
}

function fromRow(row: Selectable<BudgetsTable>): Budget {
  return toBudget(
    {
      id: row.id,
      scope: scopeOf(row),
      window: row.window,
      limitMicros: Number(row.limitMicros),
      action: row.action,
      downgradeTo: row.downgradeTo,
      thresholds: JSON.parse(row.thresholds) as number[],
      failOpen: row.failOpen === 1,
    },
    'sql',
  );
}

function scopeOf(row: Selectable<BudgetsTable>): BudgetScope {
  switch (row.scopeKind) {
    case 'global':
      return { kind: 'global' };
    case 'tenant':
      return { kind: 'tenant', tenant: row.tenant ?? '' };
    case 'feature':
      return { kind: 'feature', tenant: row.tenant ?? '', feature: row.feature ?? '' };
    case 'key':
      return { kind: 'key', keyId: row.keyId ?? '' };
  }
}
