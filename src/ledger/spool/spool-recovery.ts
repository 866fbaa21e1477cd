import type { Logger } from 'pino';
import type { Database } from '../../storage/database.js';
import type { LedgerRow } from '../ledger-row.js';
import { toRequestsInsert } from '../ledger-row.js';
import { ledgerWriter } from '../ledger-write.js';
import { readSegment, type SpooledCharge } from './spool-records.js';

/** Settles or releases the reservations a dead process held, as the spool recorded their charges. */
export interface HoldStore {
  settle(id: string, costMicros: number, charges: readonly SpooledCharge[]): Promise<unknown>;
  release(id: string, charges: readonly SpooledCharge[]): Promise<unknown>;
}

export interface RecoveryOptions {
  database: Database;
  /** The budget store when it outlives this process (Redis, through budgets/ `spooledHolds`); null for the memory store, which starts empty. */
  store: HoldStore | null;
  log: Logger;
}

export interface RecoveryReport {
  segments: number;
  /** Rows found in the spool, and how many of them the database did not have yet. */
  rows: number;
  inserted: number;
  /** Reservations left by the dead process: settled to their call's cost, or released (the call never finished). */
  settled: number;
  released: number;
  /** Lines that did not parse (a torn last write). */
  unreadable: number;
}

/**
 * Replays the segments a dead process left: every row goes into the ledger (rows already there
 * are skipped by `call_id`), then every reservation it held on a shared store and had not
 * settled is settled to its call's recorded cost — from the spool or the ledger — or released
 * when the call left no row (it never finished: its answer was not delivered). Run at start-up,
 * before serving, so budget counters and the ledger agree and no reservation is left stranded.
 * Throws when the database or the store fails; the segments are then kept for the next start.
 */
export async function recoverSpool(segments: readonly string[], options: RecoveryOptions): Promise<RecoveryReport> {
  const { database, store, log } = options;
  const rows = new Map<string, LedgerRow>();
  const unkeyed: LedgerRow[] = [];
  const holds = new Map<string, readonly SpooledCharge[]>();
  const resolved = new Set<string>();
  let unreadable = 0;
  for (const file of segments) {
    const contents = readSegment(file);
    unreadable += contents.unreadable;
    for (const record of contents.records) {
      if (record.k === 'row') {
        if (record.row.callId) rows.set(record.row.callId, record.row);
        else unkeyed.push(record.row);
      } else if (record.k === 'hold') holds.set(record.id, record.charges);
      else resolved.add(record.id);
    }
  }
  const report: RecoveryReport = {
    segments: segments.length,
    rows: rows.size + unkeyed.length,
    inserted: 0,
    settled: 0,
    released: 0,
    unreadable,
  };
  if (segments.length === 0) return report;

  const all = [...rows.values(), ...unkeyed];
  const known = await storedCallIds(database, [...rows.keys()]);
  report.inserted = all.length - known.size;
  await ledgerWriter(database).insert(all.map(toRequestsInsert));

  if (store) {
    const open = [...holds.entries()].filter(([id]) => !resolved.has(id));
    const costs = await storedCosts(
      database,
      open.map(([id]) => id).filter((id) => !rows.has(id)),
    );
    for (const [id, charges] of open) {
      const cost = rows.has(id) ? (rows.get(id)!.costMicros ?? 0) : costs.get(id);
      if (cost === undefined) {
        await store.release(id, charges);
        report.released++;
      } else {
        await store.settle(id, cost, charges);
        report.settled++;
      }
    }
  }
  log.warn(
    { ...report, rowsAlreadyStored: report.rows - report.inserted },
    'replayed the crash spool of a process that did not shut down cleanly',
  );
  return report;
}

const CHUNK = 500;

async function storedCallIds(database: Database, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await database.db
      .selectFrom('requests')
      .select('callId')
      .where('callId', 'in', ids.slice(i, i + CHUNK))
      .execute();
    for (const row of rows) if (row.callId) found.add(row.callId);
  }
  return found;
}

async function storedCosts(database: Database, ids: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await database.db
      .selectFrom('requests')
      .select(['callId', 'costMicros'])
      .where('callId', 'in', ids.slice(i, i + CHUNK))
      .execute();
    for (const row of rows) if (row.callId) found.set(row.callId, Number(row.costMicros ?? 0));
  }
  return found;
}
