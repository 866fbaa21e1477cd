import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { admin, withPostgresSchema } from '../../test/helpers/postgres.js';
import { openDatabase } from './database.js';
import { migrationProvider } from './migrations.js';

/** Every migration's name, in order (so adding one does not break these tests). */
const MIGRATIONS = Object.keys(await migrationProvider('postgres').getMigrations()).sort();

/** The tables a fresh schema gets: whatever the migrations create, as SQLite sees them. */
async function expectedTables(): Promise<string[]> {
  const database = await openDatabase({ url: 'sqlite::memory:' });
  try {
    const { rows } = await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(
      database.db,
    );
    return rows.map((r) => r.name);
  } finally {
    await database.close();
  }
}

const request = {
  requestId: 'req_1',
  createdAt: 1_767_225_600_000,
  alias: 'fast',
  provider: null,
  deployment: null,
  upstreamModel: null,
  status: 200,
  outcome: 'ok',
  errorCode: null,
  stream: 0,
  inputTokens: 1,
  outputTokens: 2,
  latencyMs: 3.5,
  ttftMs: null,
  tenant: null,
  feature: null,
  keyId: null,
  endUser: null,
  tags: null,
  costMicros: 9_007_199_254_740,
  priceVersion: null,
} as const;

async function tablesIn(schema: string): Promise<string[]> {
  const { rows } = await admin(
    `select table_name from information_schema.tables where table_schema = '${schema}' order by table_name`,
  );
  return rows.map((row: { table_name: string }) => row.table_name);
}

void describe('openDatabase (PostgreSQL)', () => {
  void it('migrates into its own schema and reads bigint columns as numbers', (t) =>
    withPostgresSchema(t, async ({ url, schema }) => {
      const database = await openDatabase({ url, schema, password: 'ignored-under-trust-auth' });
      try {
        assert.equal(database.dialect, 'postgres');
        await database.ping();
        assert.deepEqual(await tablesIn(schema), await expectedTables());
        await database.db.insertInto('requests').values(request).execute();
        const row = await database.db
          .selectFrom('requests')
          .select(['id', 'createdAt', 'costMicros'])
          .executeTakeFirst();
        assert.deepEqual(row, { id: 1, createdAt: 1_767_225_600_000, costMicros: 9_007_199_254_740 });
      } finally {
        await database.close();
      }
    }));

  void it('uses the schema on every pooled connection', (t) =>
    withPostgresSchema(t, async ({ url, schema }) => {
      const database = await openDatabase({ url, schema });
      try {
        // Held concurrently, so each runs on a different connection of the pool.
        const results = await Promise.all(
          Array.from({ length: 5 }, () =>
            sql<{ schema: string }>`select current_schema() as schema, pg_sleep(0.05)`.execute(database.db),
          ),
        );
        assert.deepEqual(new Set(results.map((r) => r.rows[0]?.schema)), new Set([schema]));
      } finally {
        await database.close();
      }
    }));

  void it('keeps two schemas of one database apart (each gets its own migrations)', (t) =>
    withPostgresSchema(t, ({ url, schema: first }) =>
      withPostgresSchema(t, async ({ schema: second }) => {
        const a = await openDatabase({ url, schema: first });
        const b = await openDatabase({ url, schema: second });
        try {
          await a.db.insertInto('requests').values(request).execute();
          assert.equal((await b.db.selectFrom('requests').selectAll().execute()).length, 0);
          assert.deepEqual(await tablesIn(second), await expectedTables());
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      }),
    ));

  void it('several processes opening a fresh schema at once: it is created and migrated once, all succeed', (t) =>
    withPostgresSchema(
      t,
      async ({ url, schema }) => {
        const opened = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ url, schema })));
        try {
          const { rows } = await admin(`select name from "${schema}".kysely_migration`);
          assert.deepEqual(
            rows.map((row: { name: string }) => row.name),
            MIGRATIONS,
          );
          for (const database of opened) await database.db.insertInto('requests').values(request).execute();
          assert.equal((await opened[0]!.db.selectFrom('requests').selectAll().execute()).length, 4);
        } finally {
          await Promise.all(opened.map((database) => database.close()));
        }
      },
      { create: false },
    ));
});

void describe('openDatabase (PostgreSQL) beside other schemas', () => {
  void it('introspects its own schema only, columns included', (t) =>
    withPostgresSchema(t, async ({ url, schema }) => {
      const database = await openDatabase({ url, schema });
      try {
        const tables = await database.db.introspection.getTables();
        assert.deepEqual(new Set(tables.map((table) => table.schema)), new Set([schema]));
        const requests = tables.find((table) => table.name === 'requests');
        const columns = new Map(requests?.columns.map((column) => [column.name, column]));
        assert.equal(columns.size, 27);
        assert.deepEqual(
          [columns.get('id')?.isAutoIncrementing, columns.get('id')?.dataType, columns.get('tenant')?.isNullable],
          [true, 'int8', true],
        );
        assert.equal(columns.get('request_id')?.isNullable, false);
        assert.equal(columns.get('call_id')?.isNullable, true, 'rows older than migration 004 have no call id');
      } finally {
        await database.close();
      }
    }));

  void it('opens while other schemas of the database are being created and dropped', (t) =>
    withPostgresSchema(t, async ({ url, schema }) => {
      // The failure it guards against (kysely's introspector tripping over a schema dropped
      // mid-query) is a race, so churn hard and open often.
      const churner = new pg.Client({ connectionString: url });
      await churner.connect();
      let churning = true;
      const churn = (async () => {
        for (let i = 0; churning; i++) {
          const other = `${schema}_churn_${i % 4}`;
          await churner.query(`create schema if not exists "${other}"; create table "${other}".t (id int)`);
          await churner.query(`drop schema "${other}" cascade`);
        }
      })();
      try {
        for (let i = 0; i < 12; i++) {
          const own = `${schema}_open_${i}`;
          try {
            const database = await openDatabase({ url, schema: own });
            await database.close();
          } finally {
            await churner.query(`drop schema if exists "${own}" cascade`);
          }
        }
      } finally {
        churning = false;
        await churn.finally(async () => {
          for (let i = 0; i < 4; i++) await churner.query(`drop schema if exists "${schema}_churn_${i}" cascade`);
          await churner.end();
        });
      }
    }));
});
