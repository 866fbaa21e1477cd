import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase } from './database.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('SQLite with several writer processes', () => {
  void it('a transaction holds the write lock from its start: a read-then-write cannot fail on a snapshot another writer moved', async () => {
    const file = join(dir, 'ledger.db');
    const database = await openDatabase({ url: `sqlite:${file}` });
    // Another writer (a second worker), without a busy timeout so a held lock shows at once.
    const other = new SqliteDatabase(file);
    other.pragma('busy_timeout = 0');
    const insert = other.prepare('insert into change_versions (scope, version) values (?, 0)');
    try {
      const seen = await database.db.transaction().execute(async (trx) => {
        const before = await sql<{ n: number }>`select count(*) as n from change_versions`.execute(trx);
        // Deferred, the other writer's commit here would make the update below fail with
        // SQLITE_BUSY_SNAPSHOT at once; immediate, the other writer has to wait for us.
        assert.throws(() => insert.run('other'), { code: 'SQLITE_BUSY' });
        await sql`insert into change_versions (scope, version) values ('ours', 0)`.execute(trx);
        return before.rows[0]!.n;
      });
      insert.run('other'); // free again once we committed
      const after = other.prepare('select count(*) as n from change_versions').get() as { n: number };
      assert.equal(after.n, seen + 2);
    } finally {
      other.close();
      await database.close();
    }
  });
});
