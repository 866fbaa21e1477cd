import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import type { Database } from '../storage/database.js';
import { LedgerQueue } from './ledger-queue.js';
import { toRequestsInsert, type LedgerRow } from './ledger-row.js';
import { isRowRejection, ledgerWriter, type LedgerWriter } from './ledger-write.js';
import type { Spool, SpoolTicket } from './spool/spool.js';

export interface LedgerOptions {
  /** Rows per INSERT; reaching it schedules a write on the next turn of the event loop. */
  batchSize: number;
  /** Longest a row waits in memory before a write is attempted. */
  flushIntervalMs: number;
  /** Rows kept in memory while writes fail; past it the oldest are dropped (and counted). */
  maxBufferedRows: number;
  log: Logger;
  /** Longest wait between retries while the database is down. Default 30 s. */
  maxBackoffMs?: number;
  /** Monotonic time, for retry backoff (tests pass a `FakeClock`). */
  clock?: Pick<Clock, 'now'>;
  /**
   * The crash spool: each row is appended there synchronously by `record` (before the answer
   * completes) and marked done once written, so a process crash loses no row. A row dropped
   * from a full buffer stays in the spool and is replayed at the next start.
   */
  spool?: Spool | null;
  /** How batches reach the database; default `ledgerWriter(database)` (tests wrap it to hold writes in flight). */
  writer?: LedgerWriter;
}

/** A row waiting to be written, with its spool ticket. */
interface Queued {
  readonly row: LedgerRow;
  readonly ticket: SpoolTicket | null;
}

export interface LedgerStats {
  /** Rows written to the database. */
  written: number;
  /** Rows in memory, including a batch being written. */
  buffered: number;
  /** Rows lost: pushed out of a full buffer, refused by the database, or recorded after close. */
  dropped: number;
  /** Writes that failed (each is retried). */
  failedWrites: number;
}

export interface Ledger {
  /** Queues one row. Synchronous, O(1), never throws: safe on the request path. */
  record(row: LedgerRow): void;
  /** Resolves once every row recorded before the call is written; rejects if a write fails. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. Never rejects: rows it cannot write are logged and counted as dropped. */
  close(): Promise<void>;
  stats(): LedgerStats;
}

/**
 * The request ledger: rows are buffered in memory and written in batches, one write at a time,
 * so recording a request costs the request path nothing but an array push. While the database
 * is down, rows stay buffered (up to `maxBufferedRows`) and writes are retried with backoff.
 *
 * @example
 * const ledger = createLedger(database, { batchSize: 200, flushIntervalMs: 250, maxBufferedRows: 100_000, log });
 * ledger.record(row);
 * await ledger.close(); // on shutdown, before database.close()
 */
export function createLedger(database: Database, options: LedgerOptions): Ledger {
  const { batchSize, flushIntervalMs, maxBufferedRows, log } = options;
  const clock = options.clock ?? systemClock;
  const maxBackoffMs = Math.max(options.maxBackoffMs ?? 30_000, flushIntervalMs);
  const writer = options.writer ?? ledgerWriter(database);
  const queue = new LedgerQueue<Queued>(maxBufferedRows);
  const spool = options.spool ?? null;

  let recorded = 0;
  let written = 0;
  let dropped = 0;
  let failedWrites = 0;
  let inFlight = 0;
  let writing: Promise<void> | null = null;
  let failureStreak = 0;
  let retryAt = 0;
  let unreportedDrops = 0;
  let immediate: NodeJS.Immediate | null = null;
  let closing: Promise<void> | null = null;
  let closed = false;

  const timer = setInterval(() => writeInBackground(), flushIntervalMs);
  timer.unref();

  function drop(count: number, reason: string): void {
    if (count === 0) return;
    dropped += count;
    if (unreportedDrops === 0) log.error({ maxBufferedRows }, `ledger dropping rows: ${reason}`);
    unreportedDrops += count;
  }

  function writeInBackground(): void {
    immediate = null;
    if (writing !== null || queue.length === 0 || clock.now() < retryAt) return;
    drain().catch(() => undefined); // logged where it failed; the timer retries
  }

  /** Writes batches until the queue is empty, one write at a time; shared by concurrent callers. */
  function drain(): Promise<void> {
    writing ??= writeAll().finally(() => {
      writing = null;
    });
    return writing;
  }

  async function writeAll(): Promise<void> {
    while (queue.length > 0) {
      await writeBatch(queue.take(batchSize));
      // Let I/O run between batches: better-sqlite3 writes synchronously.
      if (queue.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async function writeBatch(batch: Queued[]): Promise<void> {
    inFlight = batch.length;
    try {
      await writer.insert(batch.map((q) => toRequestsInsert(q.row)));
      succeeded(batch.length);
      for (const q of batch) q.ticket?.done();
    } catch (error) {
      if (!isRowRejection(error)) return failed(batch, error);
      // One bad row must not wedge the ledger: write the batch row by row, dropping the rejected.
      const rejected: { requestId: unknown; error: unknown }[] = [];
      try {
        for (const [index, { row, ticket }] of batch.entries()) {
          try {
            await writer.insert([toRequestsInsert(row)]);
            succeeded(1);
          } catch (rowError) {
            if (!isRowRejection(rowError)) return failed(batch.slice(index), rowError);
            rejected.push({ requestId: (row as Partial<LedgerRow> | null)?.requestId, error: rowError });
            dropped += 1;
          }
          ticket?.done(); // written, or refused for good: either way not worth replaying
          inFlight -= 1;
        }
      } finally {
        // Once per batch, not per row: a systematic problem must not flood the log.
        if (rejected.length > 0) {
          const requestIds = rejected.slice(0, 10).map((r) => r.requestId);
          log.error(
            { err: rejected[0]?.error, rejected: rejected.length, requestIds },
            'ledger rows rejected by the database; dropped',
          );
        }
      }
    } finally {
      inFlight = 0;
    }
  }

  function succeeded(count: number): void {
    written += count;
    if (failureStreak > 0) log.info({ failedWrites: failureStreak }, 'ledger writes recovered');
    failureStreak = 0;
    retryAt = 0;
    if (unreportedDrops > 0) log.error({ dropped: unreportedDrops }, 'ledger dropped rows');
    unreportedDrops = 0;
  }

  function failed(rows: Queued[], error: unknown): never {
    inFlight = 0;
    drop(queue.restore(rows), 'buffer full while the database is failing');
    failedWrites += 1;
    failureStreak += 1;
    retryAt = clock.now() + Math.min(maxBackoffMs, flushIntervalMs * 2 ** (failureStreak - 1));
    if (failureStreak === 1) {
      log.error({ err: error, buffered: queue.length }, 'ledger write failed; keeping rows and retrying');
    }
    throw error;
  }

  async function flush(): Promise<void> {
    const target = recorded;
    // Rows leave in order, so everything recorded so far is settled when this many have left.
    while (recorded - queue.length - inFlight < target) await drain();
  }

  async function closeOnce(): Promise<void> {
    clearInterval(timer);
    try {
      // Again if rows were recorded while the final flush ran (requests finishing late).
      do await flush();
      while (queue.length > 0);
    } catch (error) {
      const lost = queue.clear();
      dropped += lost;
      log.error({ err: error, lost }, 'ledger closed with rows it could not write');
    }
    if (immediate !== null) clearImmediate(immediate);
    closed = true;
  }

  return {
    record(row) {
      try {
        recorded += 1;
        if (closed) return drop(1, 'recorded after close');
        const ticket = spool ? spool.appendRow(row) : null;
        drop(queue.push({ row, ticket }), 'buffer full');
        if (queue.length >= batchSize && immediate === null && writing === null) {
          immediate = setImmediate(writeInBackground);
        }
      } catch {
        // Nothing above should throw; if it does, the request must not pay for it.
      }
    },
    flush: () => (closed ? Promise.resolve() : flush()),
    close: () => (closing ??= closeOnce()),
    stats: () => ({ written, buffered: queue.length + inFlight, dropped, failedWrites }),
  };
}
