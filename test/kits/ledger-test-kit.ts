// Helpers for the ledger contract suite (test-only; nothing in the gateway imports this file).
import { sql } from 'kysely';
import pino, { type Logger } from 'pino';
import type { Database } from '../../src/storage/database.js';
import { fromRequestsRow, type LedgerRow, type StoredLedgerRow } from '../../src/ledger/ledger-row.js';
import { ledgerWriter, type LedgerWriter } from '../../src/ledger/ledger-write.js';

/** A plausible row; `i` makes it unique and orders it. */
export function sampleRow(i: number, overrides: Partial<LedgerRow> = {}): LedgerRow {
  return {
    requestId: `req_${i}`,
    createdAt: 1_767_225_600_000 + i,
    alias: 'fast',
    provider: 'openai',
    deployment: 'openai-eu',
    upstreamModel: 'gpt-4o-mini',
    status: 200,
    outcome: 'ok',
    stream: i % 2 === 0,
    inputTokens: 10 + i,
    outputTokens: 20 + i,
    latencyMs: 100.25 + i,
    ...overrides,
  };
}

export async function readLedger(database: Database): Promise<StoredLedgerRow[]> {
  const rows = await database.db.selectFrom('requests').selectAll().orderBy('id').execute();
  return rows.map(fromRequestsRow);
}

export async function requestIds(database: Database): Promise<string[]> {
  return (await readLedger(database)).map((row) => row.requestId);
}

/** Makes every ledger write fail (table gone) until `online` — a real database error, not a mock. */
export async function offline(database: Database): Promise<void> {
  await sql`alter table requests rename to requests_offline`.execute(database.db);
}

export async function online(database: Database): Promise<void> {
  await sql`alter table requests_offline rename to requests`.execute(database.db);
}

/** Polls `predicate` until it holds (real I/O is involved, so there is no clock to advance). */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The ledger writer for `database`, wrapped so every insert, once executed, waits for
 * `release()` before its caller sees the result: a write held in flight. Counts how many
 * inserts were ever in flight at once.
 */
export function holdInserts(database: Database) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const counts = { started: 0, active: 0, maxActive: 0 };
  const inner = ledgerWriter(database);
  const writer: LedgerWriter = {
    async insert(rows) {
      counts.started += 1;
      counts.active += 1;
      counts.maxActive = Math.max(counts.maxActive, counts.active);
      try {
        await inner.insert(rows);
        await gate;
      } finally {
        counts.active -= 1;
      }
    },
  };
  return { writer, counts, release: () => release() };
}

/** A logger that keeps what it logs, to assert on. */
export function capturingLogger(): { log: Logger; messages: () => string[] } {
  const lines: { msg: string }[] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) },
  );
  return { log, messages: () => lines.map((line) => line.msg) };
}

export const silentLog = pino({ level: 'silent' });
