import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../migrations.js';

/**
 * Budgets and their alert log.
 *
 * - `budgets`: definitions created through the repository (keys, admin API, CLI); config budgets
 *   are not stored. Money is integer micro-dollars (`bigint`); `thresholds` is a JSON array.
 * - `budget_alerts`: one row per (budget, window instance, threshold) that fired. The primary key
 *   is what makes a threshold fire once per window across replicas: an insert that conflicts
 *   means another replica already sent it.
 * - An index on `requests (key_id, created_at)`, for reseeding key budgets from the ledger (the
 *   tenant index exists since 001).
 */
export function budgets003(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('budgets')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('scope_kind', 'text', (col) => col.notNull())
        .addColumn('tenant', 'text')
        .addColumn('feature', 'text')
        .addColumn('key_id', 'text')
        .addColumn('window', 'text', (col) => col.notNull())
        .addColumn('limit_micros', 'bigint', (col) => col.notNull())
        .addColumn('action', 'text', (col) => col.notNull())
        .addColumn('downgrade_to', 'text')
        .addColumn('thresholds', 'text', (col) => col.notNull())
        .addColumn('fail_open', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('budgets_key_id_idx').on('budgets').column('key_id').execute();
      await db.schema.createIndex('budgets_tenant_idx').on('budgets').column('tenant').execute();
      await db.schema
        .createTable('budget_alerts')
        .addColumn('budget_id', 'text', (col) => col.notNull())
        .addColumn('window_key', 'text', (col) => col.notNull())
        .addColumn('threshold', 'integer', (col) => col.notNull())
        .addColumn('fired_at', 'bigint', (col) => col.notNull())
        .addColumn('spent_micros', 'bigint', (col) => col.notNull())
        .addColumn('limit_micros', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('budget_alerts_pk', ['budget_id', 'window_key', 'threshold'])
        .execute();
      await db.schema
        .createIndex('requests_key_id_created_at_idx')
        .on('requests')
        .columns(['key_id', 'created_at'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('requests_key_id_created_at_idx').execute();
      await db.schema.dropTable('budget_alerts').execute();
      await db.schema.dropTable('budgets').execute();
    },
  };
}
