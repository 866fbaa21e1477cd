import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

/** The PostgreSQL used by `*.int.test.ts`; `TOLLGATE_TEST_PG_URL` overrides it. */
export const TEST_PG_URL = process.env.TOLLGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresSchema {
  url: string;
  /** A fresh `tg_test_<random>` schema, dropped (CASCADE) when the test ends. */
  schema: string;
}

let probe: Promise<string | null> | undefined;

/**
 * Runs `fn` against a fresh, random schema of the test database and drops it afterwards.
 * When PostgreSQL cannot be reached the test is skipped with the reason — unless `CI=true`,
 * where it fails: CI must never pass by skipping.
 *
 * @example
 * it('migrates', (t) => withPostgresSchema(t, async ({ url, schema }) => {
 *   const database = await openDatabase({ url, schema });
 *   await database.close();
 * }));
 */
export async function withPostgresSchema(
  t: TestContext,
  fn: (pg: PostgresSchema) => Promise<void>,
  options: { create?: boolean } = {},
): Promise<void> {
  const unreachable = await (probe ??= unreachableReason());
  if (unreachable !== null) {
    const message = `PostgreSQL not reachable at ${withoutPassword(TEST_PG_URL)}: ${unreachable}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: integration tests may not skip)`);
    t.skip(message);
    return;
  }
  const schema = `tg_test_${randomBytes(6).toString('hex')}`;
  if (options.create !== false) await admin(`create schema "${schema}"`);
  try {
    await fn({ url: TEST_PG_URL, schema });
  } finally {
    await admin(`drop schema if exists "${schema}" cascade`);
  }
}

/** Runs one statement on its own connection to the test database. */
export async function admin(statement: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

async function unreachableReason(): Promise<string | null> {
  try {
    await admin('select 1');
    return null;
  } catch (error) {
    if (!(error instanceof Error)) return String(error);
    return error.message || (error as NodeJS.ErrnoException).code || error.name;
  }
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparseable TOLLGATE_TEST_PG_URL)';
  }
}
