import type { Insertable, Kysely } from 'kysely';
import type { SqlDialectName } from '../storage/migrations.js';
import type { RequestsTable, Tables } from '../storage/tables.js';
import { LEDGER_COLUMNS } from './ledger-row.js';

/** Bound parameters one statement may carry: SQLite ≥ 3.32 (bundled with better-sqlite3), PostgreSQL. */
const MAX_PARAMETERS: Record<SqlDialectName, number> = { sqlite: 32_766, postgres: 65_535 };

/** How many ledger rows fit in one INSERT on `dialect`. */
export function rowsPerStatement(dialect: SqlDialectName): number {
  return Math.floor(MAX_PARAMETERS[dialect] / LEDGER_COLUMNS);
}

/**
 * Inserts `rows` as one multi-row INSERT, or, when they exceed one statement's parameter
 * limit, as several inside one transaction, so a batch lands whole or not at all. A row whose
 * `call_id` is already stored is skipped (the crash spool may replay rows already written).
 *
 * @example
 * await insertLedgerRows(database.db, rows.map(toRequestsInsert), rowsPerStatement('sqlite'));
 */
export async function insertLedgerRows(
  db: Kysely<Tables>,
  rows: Insertable<RequestsTable>[],
  perStatement: number,
): Promise<void> {
  if (rows.length === 0) return;
  if (rows.length <= perStatement) {
    await db
      .insertInto('requests')
      .values(rows)
      .onConflict((oc) => oc.column('callId').doNothing())
      .execute();
    return;
  }
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < rows.length; start += perStatement) {
      await trx
        .insertInto('requests')
        .values(rows.slice(start, start + perStatement))
        .onConflict((oc) => oc.column('callId').doNothing())
        .execute();
    }
  });
}

/**
 * True when the database refused a write because of the data in it (a bad value or a violated
 * constraint), as opposed to being unreachable, busy or misconfigured. Rejected rows are worth
 * isolating and dropping; anything else is worth retrying.
 */
export function isRowRejection(error: unknown): boolean {
  // better-sqlite3 throws these when it cannot bind a value (undefined, an object, a boolean).
  if (error instanceof TypeError || error instanceof RangeError) return true;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return false;
  // SQLSTATE class 22 = data exception (bad number, out of range), 23 = integrity constraint.
  if (/^2[23][0-9A-Z]{3}$/.test(code)) return true;
  return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG';
}
