// Ledger write throughput, SQLite file and PostgreSQL. Not a test: run it and read the numbers.
//   node --import tsx bench/micro/ledger.bench.ts [rows=50000] [batchSize=200]
// PostgreSQL: TOLLGATE_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), in a
// throwaway schema that is dropped afterwards; skipped with a note when unreachable.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { createLedger } from '../../src/ledger/ledger.js';
import { sampleRow } from '../../test/kits/ledger-test-kit.js';

const rows = Number(process.argv[2] ?? 50_000);
const batchSize = Number(process.argv[3] ?? 200);
const log = pino({ level: 'silent' });

async function run(name: string, database: Database): Promise<void> {
  const ledger = createLedger(database, { batchSize, flushIntervalMs: 250, maxBufferedRows: rows * 2, log });
  const prepared = Array.from({ length: rows }, (_, i) =>
    sampleRow(i, { tenant: 'acme', feature: 'chat', tags: ['bench'], costMicros: 1_234 }),
  );
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (const row of prepared) ledger.record(row);
  const recorded = performance.now();
  await ledger.close();
  const end = performance.now();
  const cpu = process.cpuUsage(cpuStart);
  const count = await database.db
    .selectFrom('requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const stats = ledger.stats();
  console.log(
    `${name.padEnd(10)} ${rows} rows, batch ${batchSize}: ${Math.round(rows / ((end - start) / 1000))} rows/s ` +
      `(record ${(((recorded - start) / rows) * 1e6).toFixed(0)} ns/row, drain ${(end - recorded).toFixed(0)} ms, ` +
      `CPU ${((cpu.user + cpu.system) / rows).toFixed(1)} µs/row in this process) ` +
      `stored=${Number(count.n)} written=${stats.written} dropped=${stats.dropped} failedWrites=${stats.failedWrites}`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-'));
const sqlite = await openDatabase({ url: `sqlite:${join(dir, 'bench.db')}` });
await run('sqlite', sqlite).finally(() => sqlite.close());
await rm(dir, { recursive: true, force: true });

const url = process.env.TOLLGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `tg_bench_${randomBytes(4).toString('hex')}`;
const postgres = await openDatabase({ url, schema }).catch((error: Error) => {
  console.log(`postgres   skipped: ${error.message}`);
  return null;
});
if (postgres) {
  try {
    await run('postgres', postgres);
  } finally {
    await sql`drop schema ${sql.id(schema)} cascade`.execute(postgres.db);
    await postgres.close();
  }
}
