import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../migrations.js';

/**
 * The request ledger. Column types are the portable subset (integer, bigint, text, double
 * precision). `double precision` rather than `real`: on PostgreSQL `real` is float4 (~7 digits),
 * on SQLite both are the same 8-byte REAL.
 */
export function requests001(dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('requests')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (col) =>
          dialect === 'postgres' ? col.primaryKey() : col.primaryKey().autoIncrement(),
        )
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('alias', 'text', (col) => col.notNull())
        .addColumn('provider', 'text')
        .addColumn('deployment', 'text')
        .addColumn('upstream_model', 'text')
        .addColumn('status', 'integer', (col) => col.notNull())
        .addColumn('outcome', 'text', (col) => col.notNull())
        .addColumn('error_code', 'text')
        .addColumn('stream', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('input_tokens', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('output_tokens', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('cached_tokens', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('latency_ms', 'double precision', (col) => col.notNull())
        .addColumn('ttft_ms', 'double precision')
        .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(1))
        .addColumn('fallback_used', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('tenant', 'text')
        .addColumn('feature', 'text')
        .addColumn('key_id', 'text')
        .addColumn('end_user', 'text')
        .addColumn('tags', 'text')
        .addColumn('cost_micros', 'bigint')
        .addColumn('price_version', 'text')
        .addColumn('estimated', 'integer', (col) => col.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('requests_request_id_idx').on('requests').column('request_id').execute();
      await db.schema.createIndex('requests_created_at_idx').on('requests').column('created_at').execute();
      await db.schema
        .createIndex('requests_tenant_created_at_idx')
        .on('requests')
        .columns(['tenant', 'created_at'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('requests').execute();
    },
  };
}
