import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../migrations.js';

/**
 * `requests.call_id`: the id the gateway makes for every call (`CallContext.callId`), unique.
 * `request_id` stays the client's label, which two calls may share. The unique index is what
 * lets the crash spool replay rows that may already have been written (`on conflict do nothing`).
 * Rows written before this migration have no call id (NULLs never collide).
 */
export function callId004(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('requests').addColumn('call_id', 'text').execute();
      await db.schema.createIndex('requests_call_id_idx').unique().on('requests').column('call_id').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('requests_call_id_idx').execute();
      await db.schema.alterTable('requests').dropColumn('call_id').execute();
    },
  };
}
