import { CamelCasePlugin, Kysely, Migrator, sql, type Dialect } from 'kysely';
import pino, { type Logger } from 'pino';
import { migrationProvider, type SqlDialectName } from './migrations.js';
import { describePostgresUrl, postgresDialect } from './open-postgres.js';
import { sqliteDialect } from './open-sqlite.js';
import type { Tables } from './tables.js';

export interface OpenDatabaseOptions {
  /** `sqlite:./data/tollgate.db`, `sqlite::memory:`, `postgres://…` or `postgresql://…`. */
  url: string;
  /** PostgreSQL schema (created if missing); ignored for SQLite. Default `public`. */
  schema?: string;
  /** PostgreSQL password, when it is not in the URL (e.g. revealed from a `Secret`). */
  password?: string;
  log?: Logger;
}

/** An open, migrated SQL database. */
export interface Database {
  /** camelCase in TypeScript, snake_case in SQL (a `CamelCasePlugin` maps both ways). */
  readonly db: Kysely<Tables>;
  readonly dialect: SqlDialectName;
  /**
   * The driver under kysely, for the few hot statements worth preparing once (the ledger insert,
   * `accounting/ledger-write.ts`). The SQLite connection is kysely's only one: use it inside
   * `db.connection().execute(…)`, which holds kysely's lock on it, so a statement never lands in
   * the middle of someone else's transaction. The PostgreSQL pool hands out its own connections.
   */
  readonly native: NativeDriver;
  /** Resolves when the database answers a trivial query (for readiness checks). */
  ping(): Promise<void>;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * The driver objects, typed `unknown` on purpose: `Database` is reachable from the public types
 * (`Gateway.database`), and naming better-sqlite3's or pg's types here would make every consumer
 * of the package install `@types/better-sqlite3` and `@types/pg`. The one user
 * (`accounting/ledger-write.ts`) narrows them.
 */
export type NativeDriver =
  { readonly dialect: 'sqlite'; readonly sqlite: unknown } | { readonly dialect: 'postgres'; readonly pool: unknown };

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Opens the database named by `url` and brings its schema up to date before resolving.
 * Several processes may open the same PostgreSQL schema at once: migrations run under an
 * advisory lock, so each runs exactly once.
 *
 * @example
 * const database = await openDatabase({ url: 'sqlite:./data/tollgate.db', log });
 * await database.db.selectFrom('requests').selectAll().limit(10).execute();
 * await database.close();
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const log = options.log ?? pino({ level: 'silent' });
  const schema = options.schema ?? 'public';
  const { dialect, where, create, native } = await resolveDialect(options, schema, log);
  const base = new Kysely<Tables>({ dialect: create });
  try {
    if (dialect === 'postgres') await ensureSchema(base, schema);
    await migrate(base, dialect, dialect === 'postgres' ? schema : undefined, log, where);
  } catch (error) {
    await base.destroy().catch(() => undefined);
    throw new Error(`cannot open ${dialect} database at ${where}: ${messageOf(error)}`, { cause: error });
  }
  let closing: Promise<void> | undefined;
  return {
    db: base.withPlugin(new CamelCasePlugin()),
    dialect,
    native,
    ping: async () => {
      await sql`select 1`.execute(base);
    },
    close: () => (closing ??= base.destroy()),
  };
}

async function resolveDialect(
  options: OpenDatabaseOptions,
  schema: string,
  log: Logger,
): Promise<{ dialect: SqlDialectName; where: string; create: Dialect; native: NativeDriver }> {
  const { url } = options;
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length);
    if (target === '') throw new Error('sqlite URL needs a path: sqlite:./data/tollgate.db or sqlite::memory:');
    const { dialect, sqlite } = await sqliteDialect(target);
    return { dialect: 'sqlite', where: target, create: dialect, native: { dialect: 'sqlite', sqlite } };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    if (!IDENTIFIER.test(schema)) throw new Error(`PostgreSQL schema must be a lower-case identifier, got "${schema}"`);
    const where = `${describePostgresUrl(url)} (schema ${schema})`;
    const { dialect, pool } = await postgresDialect({ url, schema, password: options.password, log });
    return { dialect: 'postgres', where, create: dialect, native: { dialect: 'postgres', pool } };
  }
  throw new Error(`unsupported database URL (expected sqlite: or postgres://): ${url.split(':')[0] ?? ''}:…`);
}

/** Creates the schema unless it exists (checked first, so a user without CREATE may use a given one). */
async function ensureSchema(db: Kysely<Tables>, schema: string): Promise<void> {
  const exists = async (): Promise<boolean> =>
    (await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db)).rows.length > 0;
  if (await exists()) return;
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Two processes racing: `if not exists` can still fail on the catalog's unique index.
    if (!(await exists())) throw error;
  }
}

async function migrate(
  db: Kysely<Tables>,
  dialect: SqlDialectName,
  schema: string | undefined,
  log: Logger,
  where: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    // Named explicitly on PostgreSQL: otherwise kysely's "does the table exist" check looks at
    // every schema and would find another schema's migration table.
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error !== undefined) {
    throw new Error(`migration ${failed?.migrationName ?? '(setup)'} failed: ${messageOf(error)}`, { cause: error });
  }
  const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (applied.length > 0) log.info({ database: where, migrations: applied }, 'database migrated');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
