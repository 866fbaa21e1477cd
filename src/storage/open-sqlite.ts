import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver } from 'kysely';

/**
 * A kysely dialect over one better-sqlite3 connection (kysely serialises access to it).
 * `target` is a file path or `:memory:`. Files get WAL (readers never block the writer),
 * `synchronous=NORMAL` (durable across process crashes; a power cut may lose the last
 * transactions, which is the usual trade for WAL) and a busy timeout for a second process.
 * Transactions begin `immediate`: they take the write lock first, waiting for it under the busy
 * timeout. A deferred one that read before writing fails at once (`SQLITE_BUSY_SNAPSHOT`, no
 * waiting) whenever another process committed in between — with several workers writing the
 * ledger, a key write (read the key, then update it) would otherwise fail under load.
 *
 * Returns the dialect and the connection itself (`Database.native`).
 *
 * @example
 * const { dialect, sqlite } = await sqliteDialect('./data/tollgate.db');
 */
export async function sqliteDialect(
  target: string,
): Promise<{ dialect: SqliteDialect; sqlite: BetterSqlite3.Database }> {
  const { default: SqliteDatabase } = await import('better-sqlite3');
  const inMemory = target === ':memory:';
  if (!inMemory) await mkdir(dirname(resolve(target)), { recursive: true });
  const sqlite = new SqliteDatabase(target);
  try {
    if (!inMemory) sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return { dialect: new ImmediateSqliteDialect({ database: sqlite }), sqlite };
}

/** kysely's SQLite dialect, its transactions begun with `begin immediate`. */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection): Promise<void> => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}
