import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from './database.js';
import { migrationProvider } from './migrations.js';

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
  costMicros: null,
  priceVersion: null,
} as const;

void describe('openDatabase (SQLite)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-db-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('creates the file and its folder, in WAL mode with NORMAL sync and a busy timeout', async () => {
    const file = join(dir, 'nested', 'deeper', 'tollgate.db');
    const database = await openDatabase({ url: `sqlite:${file}` });
    try {
      assert.equal(database.dialect, 'sqlite');
      assert.ok(existsSync(file));
      const pragma = async (name: string): Promise<unknown> => {
        const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(database.db);
        return Object.values(rows[0] ?? {})[0];
      };
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('synchronous'), 1, 'NORMAL');
      assert.equal(await pragma('busy_timeout'), 5_000);
    } finally {
      await database.close();
    }
  });

  void it('migrates once: reopening keeps data and applies nothing again', async () => {
    const url = `sqlite:${join(dir, 'reopen.db')}`;
    const first = await openDatabase({ url });
    await first.db.insertInto('requests').values(request).execute();
    await first.close();
    const second = await openDatabase({ url });
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(second.db);
      assert.deepEqual(
        rows.map((r) => r.name),
        Object.keys(await migrationProvider('sqlite').getMigrations()).sort(),
      );
      assert.equal((await second.db.selectFrom('requests').selectAll().execute()).length, 1);
    } finally {
      await second.close();
    }
  });

  void it('maps camelCase fields to snake_case columns', async () => {
    const database = await openDatabase({ url: 'sqlite::memory:' });
    try {
      await database.db.insertInto('requests').values(request).execute();
      const columns = await sql<{ name: string }>`select name from pragma_table_info('requests')`.execute(database.db);
      assert.ok(columns.rows.some((c) => c.name === 'request_id'));
      const [row] = await database.db
        .selectFrom('requests')
        .select(['requestId', 'cachedTokens', 'attempts'])
        .execute();
      assert.deepEqual(row, { requestId: 'req_1', cachedTokens: 0, attempts: 1 });
    } finally {
      await database.close();
    }
  });

  void it('pings, and closes idempotently', async () => {
    const database = await openDatabase({ url: 'sqlite::memory:' });
    await database.ping();
    await Promise.all([database.close(), database.close()]);
    await database.close();
    await assert.rejects(database.ping());
  });

  void it('rejects URLs it does not serve, without echoing credentials', async () => {
    await assert.rejects(openDatabase({ url: 'mysql://root:hunter2@db/x' }), (error: Error) => {
      assert.match(error.message, /unsupported database URL/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    await assert.rejects(openDatabase({ url: 'sqlite:' }), /needs a path/);
    await assert.rejects(
      openDatabase({ url: 'postgres://x@127.0.0.1/db', schema: 'Bad-Name' }),
      /lower-case identifier/,
    );
  });

  void it('fails to open an unreachable PostgreSQL with a message that hides the password', async () => {
    const url = 'postgres://tollgate:s3cret@127.0.0.1:1/tollgate';
    await assert.rejects(openDatabase({ url, password: 'other-s3cret' }), (error: Error) => {
      assert.match(error.message, /cannot open postgres database at postgres:\/\/tollgate@127\.0\.0\.1:1/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });
});
