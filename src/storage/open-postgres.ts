import { PostgresDialect, type Dialect } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { schemaScoped } from './schema-introspector.js';

/** PostgreSQL type oid of `bigint` (int8). */
const INT8_OID = 20;

export interface PostgresDialectOptions {
  url: string;
  /** Already validated as a plain lower-case identifier. */
  schema: string;
  password?: string;
  log: Logger;
  poolSize?: number;
}

/**
 * A kysely dialect over a `pg` pool whose every connection uses `schema` as its search path,
 * introspecting that schema only (see `schemaScoped`). `pg` is imported here, lazily, so SQLite
 * users never load it.
 *
 * `bigint` columns are parsed as JS numbers on this pool only (pg's default is a string): the
 * gateway stores epoch milliseconds, micro-dollars and row ids in them, all far below 2^53.
 *
 * Returns the dialect and its pool (`Database.native`).
 *
 * @example
 * const { dialect, pool } = await postgresDialect({ url: 'postgres://app@db/tollgate', schema: 'public', log });
 */
export async function postgresDialect(options: PostgresDialectOptions): Promise<{ dialect: Dialect; pool: pg.Pool }> {
  const { default: pg } = await import('pg');
  const types = new pg.TypeOverrides();
  // limitation: a value past Number.MAX_SAFE_INTEGER would lose precision; none is expected.
  types.setTypeParser(INT8_OID, (value: string) => Number(value));
  const pool = new pg.Pool({
    connectionString: withPassword(options.url, options.password),
    // Set per connection at startup, so it holds for every pooled client without a round trip.
    options: `-c search_path=${options.schema}`,
    types,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
  });
  // Without a listener, an idle client dropped by the server (restart, failover) crashes the process.
  pool.on('error', (error) => options.log.warn({ err: error }, 'idle PostgreSQL connection failed'));
  // pg-pool listens for errors only on idle clients: a connection lost during a query would emit
  // 'error' on a checked-out client with no listener and crash the process. The query itself is
  // rejected either way; this keeps the process alive.
  pool.on('connect', (client) =>
    client.on('error', (error) => options.log.warn({ err: error }, 'PostgreSQL connection lost during a query')),
  );
  return { dialect: schemaScoped(new PostgresDialect({ pool }), options.schema), pool };
}

/**
 * Puts the password into the URL: pg lets the URL's (empty) password override a `password`
 * option, so passing it separately does not work.
 */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** The URL without its password, for logs and error messages. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
