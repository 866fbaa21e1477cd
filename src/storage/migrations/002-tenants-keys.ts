import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../migrations.js';

/**
 * Tenants and their virtual keys.
 *
 * - `tenants`: who is billed. `id` is the slug clients never send (it comes from the key).
 * - `api_keys`: one row per key. Only the SHA-256 of the secret is stored (`hash`), with a short
 *   display `prefix`. Rotation keeps the row (and so the key id in the ledger, its budgets and
 *   its settings) and moves the old secret to `previous_hash`, valid until
 *   `previous_expires_at`. `version` is the value of the `change_versions` counter when the row
 *   last changed: replicas poll `version > last seen` to pick up revocations.
 * - `change_versions`: one counter per scope (`api_keys`). Every key write increments it in the
 *   same transaction; the row lock makes versions commit in order, so a poller that has seen
 *   version N has seen every change up to N (a sequence would not: its values commit out of order).
 */
export function tenantsKeys002(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('metadata', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('tenant', 'text', (col) => col.notNull().references('tenants.id'))
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('hash', 'text', (col) => col.notNull().unique())
        .addColumn('prefix', 'text', (col) => col.notNull())
        .addColumn('previous_hash', 'text')
        .addColumn('previous_prefix', 'text')
        .addColumn('previous_expires_at', 'bigint')
        .addColumn('rotated_at', 'bigint')
        .addColumn('allowed_models', 'text')
        .addColumn('rpm_limit', 'integer')
        .addColumn('tpm_limit', 'integer')
        .addColumn('metadata', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_reason', 'text')
        .addColumn('version', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('api_keys_previous_hash_idx').on('api_keys').column('previous_hash').execute();
      await db.schema.createIndex('api_keys_version_idx').on('api_keys').column('version').execute();
      await db.schema.createIndex('api_keys_tenant_idx').on('api_keys').column('tenant').execute();
      await db.schema
        .createTable('change_versions')
        .addColumn('scope', 'text', (col) => col.primaryKey())
        .addColumn('version', 'bigint', (col) => col.notNull())
        .execute();
      await sql`insert into change_versions (scope, version) values ('api_keys', 0)`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('change_versions').execute();
      await db.schema.dropTable('api_keys').execute();
      await db.schema.dropTable('tenants').execute();
    },
  };
}
